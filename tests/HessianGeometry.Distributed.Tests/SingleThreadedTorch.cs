using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// One libtorch intra-op thread, as the CLI's default: the test problems are tiny, several silos share this process, and
/// with several threads MKL splits reductions by the threads it gets on a loaded machine, which changed the last bits of
/// block products between two runs (measured: a same-seed report differed in 2 of 3 runs; never with one thread).
/// </summary>
internal static class SingleThreadedTorch
{
#pragma warning disable CA2255 // A test assembly owns its process; this must run before any test touches libtorch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialise() => set_num_threads(1);
}
