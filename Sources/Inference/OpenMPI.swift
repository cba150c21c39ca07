import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The processes `mpirun` started, talking through Open MPI's library, loaded when the job
/// starts (`dlopen`), so that building Latent needs no MPI and a program not started by
/// `mpirun` never touches it. Gradients are summed with `MPI_Allreduce`.
public final class OpenMPI: Communicator {
    public let rank: Int
    public let size: Int
    /// Seconds spent so far in `sum` (the all-reduce, waiting for the slowest process included).
    public private(set) var secondsInSum: Double = 0
    private let world: UnsafeMutableRawPointer
    private let float: UnsafeMutableRawPointer
    private let byte: UnsafeMutableRawPointer
    private let sumOperation: UnsafeMutableRawPointer
    private let allreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
    private let bcast: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer, Int32, UnsafeMutableRawPointer) -> Int32
    private let finalize: @convention(c) () -> Int32
    private let abortJob: @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32

    /// The job this process belongs to when `mpirun` started it, else nil. Throws when `mpirun`
    /// started it but Open MPI's library cannot be loaded, or the launcher is another MPI's.
    public static func fromEnvironment() throws -> OpenMPI? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMPI_COMM_WORLD_SIZE"] != nil else {
            if environment["PMI_RANK"] != nil || environment["PMI_SIZE"] != nil || environment["MPI_LOCALNRANKS"] != nil {
                throw MPIError("this process was started by an MPI launcher other than Open MPI's mpirun (MPICH or Intel MPI?); data-parallel training needs Open MPI (Debian: openmpi-bin)")
            }
            return nil
        }
        return try OpenMPI()
    }

    private init() throws {
        var handle: UnsafeMutableRawPointer?
        var reasons: [String] = []
        for name in ["libmpi.so.40", "libmpi.so"] {
            handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
            if handle != nil { break }
            reasons.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle else {
            throw MPIError("mpirun started this process, but Open MPI's library could not be loaded (\(reasons.joined(separator: "; "))); install Open MPI (Debian: openmpi-bin)")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(handle, name) else {
                throw MPIError("the MPI library that was loaded has no \(name): it is not Open MPI, which data-parallel training needs (Debian: openmpi-bin)")
            }
            return address
        }
        typealias InitializeThreads = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32
        typealias Query = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
        typealias Flag = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
        world = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        byte = try symbol("ompi_mpi_byte")
        sumOperation = try symbol("ompi_mpi_op_sum")
        allreduce = unsafeBitCast(try symbol("MPI_Allreduce"), to: type(of: allreduce))
        bcast = unsafeBitCast(try symbol("MPI_Bcast"), to: type(of: bcast))
        finalize = unsafeBitCast(try symbol("MPI_Finalize"), to: (@convention(c) () -> Int32).self)
        abortJob = unsafeBitCast(try symbol("MPI_Abort"), to: (@convention(c) (UnsafeMutableRawPointer, Int32) -> Int32).self)
        let initialized = unsafeBitCast(try symbol("MPI_Initialized"), to: Flag.self)
        var already: Int32 = 0
        _ = initialized(&already)
        if already == 0 {
            // Only the main thread calls MPI; the kernels' worker threads never do.
            let funneled: Int32 = 1
            var provided: Int32 = 0
            guard unsafeBitCast(try symbol("MPI_Init_thread"), to: InitializeThreads.self)(nil, nil, funneled, &provided) == 0 else { throw MPIError("MPI_Init_thread failed") }
        }
        var rank: Int32 = 0, size: Int32 = 0
        _ = unsafeBitCast(try symbol("MPI_Comm_rank"), to: Query.self)(world, &rank)
        _ = unsafeBitCast(try symbol("MPI_Comm_size"), to: Query.self)(world, &size)
        self.rank = Int(rank)
        self.size = Int(size)
    }

    public func sum(_ values: inout [Float]) throws {
        // MPI_IN_PLACE is the address 1 in Open MPI.
        let inPlace = UnsafeRawPointer(bitPattern: 1)
        let count = Int32(values.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let code = values.withUnsafeMutableBytes { allreduce(inPlace, $0.baseAddress, count, float, sumOperation, world) }
        secondsInSum += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard code == 0 else { throw MPIError("MPI_Allreduce failed with error \(code)") }
    }

    public func broadcast(_ bytes: inout [UInt8], from root: Int) throws {
        let count = Int32(bytes.count)
        let code = bytes.withUnsafeMutableBytes { bcast($0.baseAddress, count, byte, Int32(root), world) }
        guard code == 0 else { throw MPIError("MPI_Bcast failed with error \(code)") }
    }

    /// Ends this process's part in the job (`MPI_Finalize`); call once, before exiting.
    public func finish() {
        _ = finalize()
    }

    /// Ends every process of the job with `status` (`MPI_Abort`).
    public func abort(_ status: Int32) -> Never {
        _ = abortJob(world, status)
        exit(status)
    }
}

/// MPI cannot be used: missing, not Open MPI, or a call that failed.
public struct MPIError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
