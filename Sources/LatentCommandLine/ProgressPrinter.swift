import Foundation
import Latent

/// Training progress for a person: on a terminal, a bar redrawn in place (batch, running ELBO,
/// images per second, time left); otherwise one plain line per epoch. Written to standard error.
final class ProgressPrinter {
    let isTerminal: Bool
    let write: (String) -> Void
    let objective: ReportedObjective

    /// A printer to standard error, drawing a bar only when standard error is a terminal; the
    /// figures are labelled with what `objective` says they are.
    init(objective: ReportedObjective) {
        isTerminal = StandardError.isTerminal
        write = StandardError.write
        self.objective = objective
    }

    /// The step callback for `TrainingOptions.onStep`.
    func step(_ report: StepReport) {
        guard isTerminal else { return }
        let width = 30
        let filled = width * report.batch / Swift.max(report.batches, 1)
        let bar = progressBar(filled: filled, width: width)
        write(String(format: "\repoch %d [%@] %d/%d  %@ %.2f  %.0f rows/s  %.0f s left ", report.epoch, bar, report.batch, report.batches, objective.trainFigure(epoch: report.epoch), report.runningELBO, report.imagesPerSecond, report.secondsLeft))
    }

    /// The epoch callback for `TrainingOptions.onEpoch`.
    func epoch(_ report: EpochReport) {
        let heldOut = report.heldOutELBO.map { String(format: "  held-out %@ %.2f", objective.heldOutFigure, $0) } ?? ""
        write((isTerminal ? "\r" : "") + String(format: "epoch %d  train %@ %.2f%@  %.2f s  %.0f rows/s\n", report.epoch, objective.trainFigure(epoch: report.epoch), report.trainELBO, heldOut, report.seconds, report.imagesPerSecond))
    }

    /// Sets both callbacks of `options` to this printer.
    func attach(to options: inout TrainingOptions) {
        options.onStep = { [self] in step($0) }
        options.onEpoch = { [self] in epoch($0) }
    }
}

/// Standard error, where progress goes.
enum StandardError {
    static let isTerminal = isatty(STDERR_FILENO) != 0
    static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

/// Progress of one long piece of work outside training (importance sampling, EM, inpainting):
/// on a terminal a bar redrawn in place and erased when the work is done; otherwise, once the
/// work has run for two seconds, a plain line at most every two seconds and one at the end, so
/// that quick work prints nothing. Written to standard error.
final class WorkProgress {
    let title: String
    let total: Int
    let start = Date()
    var lastLine: Date?
    var lastDrawn: Date?

    init(_ title: String, total: Int) {
        self.title = title
        self.total = Swift.max(total, 1)
    }

    /// `done` of `total` units finished.
    func update(_ done: Int) {
        let elapsed = Date().timeIntervalSince(start)
        if StandardError.isTerminal {
            guard done >= total || lastDrawn.map({ Date().timeIntervalSince($0) >= 0.1 }) ?? true else { return }
            lastDrawn = Date()
            let width = 30, filled = width * Swift.min(done, total) / total
            let left = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
            StandardError.write("\r\(title) [" + progressBar(filled: filled, width: width) + "] \(done)/\(total)  \(Int(left.rounded())) s left ")
        } else if elapsed >= 2, done >= total || lastLine.map({ Date().timeIntervalSince($0) >= 2 }) ?? true {
            StandardError.write("\(title): \(done)/\(total) after \(String(format: "%.0f", elapsed)) s\n")
            lastLine = Date()
        }
    }

    /// The work is over: the bar is erased from the terminal.
    func finish() {
        if StandardError.isTerminal { StandardError.write("\r" + String(repeating: " ", count: title.count + 60) + "\r") }
    }
}

/// `filled` of `width` cells drawn as `#`, the rest as `.`.
func progressBar(filled: Int, width: Int) -> String {
    String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
}
