import Foundation
import Latent

/// The MPI job this process is part of, when `mpirun` started it (set once, before the command runs).
enum DataParallelJob {
    nonisolated(unsafe) static var current: OpenMPI?
    /// Set when the command failed with a failure every process of the job shares.
    nonisolated(unsafe) static var failureIsShared = false

    /// The processes of the job on this machine (`mpirun` says how many), at least 1.
    static var processesOnThisMachine: Int {
        guard current != nil, let text = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"], let count = Int(text) else { return 1 }
        return Swift.max(count, 1)
    }
}
