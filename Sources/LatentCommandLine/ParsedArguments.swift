/// A flag a command accepts: `--name VALUE`, or `--name` alone for a switch.
struct Flag {
    let name: String
    let takesValue: Bool
    let help: String

    static func value(_ name: String, _ help: String) -> Flag { Flag(name: name, takesValue: true, help: help) }
    static func toggle(_ name: String, _ help: String) -> Flag { Flag(name: name, takesValue: false, help: help) }
    static let json = toggle("json", "print one JSON object with the figures on the last line of standard output")
}

/// Command-line flags checked against what the command accepts.
struct ParsedArguments {
    private var values: [String: String] = [:]
    let command: String

    /// Parses `arguments`; with `lenient`, a flag `flags` lacks is taken to have the next word
    /// as its value, and a flag given twice keeps the last.
    init(_ arguments: [String], command: String, flags: [Flag], positionals: Int = 0, lenient: Bool = false) throws {
        self.command = command
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            guard word.hasPrefix("--") else {
                // A checkpoint or model name, before the flags or after them.
                guard positional.count < positionals else { throw UsageError("unexpected argument '\(word)' for '\(command)'; flags start with --") }
                positional.append(word)
                index += 1
                continue
            }
            let parts = word.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts.first ?? ""
            guard let flag = flags.first(where: { $0.name == name }) ?? (lenient ? .value(name, "") : nil) else {
                let known = flags.map { "--" + $0.name }.joined(separator: ", ")
                throw UsageError("unknown flag '--\(name)' for '\(command)' (it accepts \(known))")
            }
            guard values[name] == nil || lenient else { throw UsageError("flag '--\(name)' of '\(command)' is given twice; give it once") }
            if flag.takesValue {
                if parts.count == 2 {
                    values[name] = parts[1]
                } else {
                    guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                        throw UsageError("flag '--\(name)' of '\(command)' needs a value")
                    }
                    index += 1
                    values[name] = arguments[index]
                }
            } else {
                guard parts.count == 1 else { throw UsageError("flag '--\(name)' of '\(command)' takes no value") }
                values[name] = ""
            }
            index += 1
        }
    }

    /// These arguments with the flags of `stored` that were not given added.
    func filling(from stored: [String: String]) -> ParsedArguments {
        var filled = self
        for (name, value) in stored where filled.values[name] == nil { filled.values[name] = value }
        return filled
    }

    /// The first word of `arguments` that is neither a flag nor the value of one (a model's
    /// name, wherever it is among them, before the model's own flags are known).
    static func firstPositional(_ arguments: [String], flags: [Flag]) -> String? {
        (try? ParsedArguments(arguments, command: "", flags: flags, positionals: arguments.count, lenient: true))?.positional.first
    }

    /// Words that are not flags (a model name, a checkpoint path).
    var positional: [String] = []

    func has(_ name: String) -> Bool { values[name] != nil }

    /// The text of `--name`, if given.
    func text(_ name: String) -> String? { values[name] }

    /// The number value of `--name`, `fallback` when absent; must lie in `range`.
    func number(_ name: String, default fallback: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let text = values[name] else { return fallback }
        // Decimal only: Swift reads 0x10 as 16, which a CSV file's reader takes for text.
        guard !text.lowercased().contains("x"), let value = Double(text), range.contains(value) else {
            throw UsageError("flag '--\(name)' of '\(command)' needs a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// One of `choices` for `--name`, `fallback` when absent.
    func choice(_ name: String, _ choices: [String], default fallback: String) throws -> String {
        guard let text = values[name] else { return fallback }
        guard choices.contains(text) else {
            throw UsageError("flag '--\(name)' of '\(command)' must be one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// The integer value of `--name`, nil when absent; must lie in `range`.
    func optionalInteger(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard has(name) else { return nil }
        return try integer(name, default: range.lowerBound, in: range)
    }

    /// The integer value of `--name`, `fallback` when absent; must lie in `range`.
    func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("flag '--\(name)' of '\(command)' needs a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }
}
