import LatentCommandLine
import LatentModels

CommandLineTool.main(models: ModelCatalog.all)
