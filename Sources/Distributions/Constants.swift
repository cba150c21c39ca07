import Foundation

/// `log(2 pi)`.
let logTwoPi = Float(Foundation.log(2 * Double.pi))
