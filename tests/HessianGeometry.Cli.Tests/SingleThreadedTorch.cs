using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests;

/// <summary>
/// The models here are tiny (≤ 10⁴ parameters, ≤ 400 samples): libtorch's intra-op threads only add synchronisation.
/// Measured on the shared 2-core machine: 300 full-batch Adam epochs of 2-100-100-3 took 12.8 s on 2 threads and
/// 0.34 s on 1 thread.
/// </summary>
internal static class SingleThreadedTorch
{
#pragma warning disable CA2255 // A test assembly owns its process; this must run before any test touches libtorch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialise() => set_num_threads(1);
}
