import Foundation
import Latent

/// Training progress for a person: on a terminal, a bar redrawn in place (batch, running ELBO,
/// images per second, time left); otherwise one plain line per epoch. Written to standard error.
final class ProgressPrinter {
    let isTerminal: Bool
    let write: (String) -> Void

    /// A printer to standard error, drawing a bar only when standard error is a terminal.
    init() {
        isTerminal = isatty(STDERR_FILENO) != 0
        write = { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// The step callback for `TrainingOptions.onStep`.
    func step(_ report: StepReport) {
        guard isTerminal else { return }
        let width = 30
        let filled = width * report.batch / Swift.max(report.batches, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write(String(format: "\repoch %d [%@] %d/%d  ELBO %.2f  %.0f rows/s  %.0f s left ", report.epoch, bar, report.batch, report.batches, report.runningELBO, report.imagesPerSecond, report.secondsLeft))
    }

    /// The epoch callback for `TrainingOptions.onEpoch`.
    func epoch(_ report: EpochReport) {
        let heldOut = report.heldOutELBO.map { String(format: "  held-out ELBO %.2f", $0) } ?? ""
        write((isTerminal ? "\r" : "") + String(format: "epoch %d  train ELBO %.2f%@  %.2f s  %.0f rows/s\n", report.epoch, report.trainELBO, heldOut, report.seconds, report.imagesPerSecond))
    }

    /// Sets both callbacks of `options` to this printer.
    func attach(to options: inout TrainingOptions) {
        options.onStep = { [self] in step($0) }
        options.onEpoch = { [self] in epoch($0) }
    }
}
