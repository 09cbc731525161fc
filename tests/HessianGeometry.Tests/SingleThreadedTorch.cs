using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace HessianGeometry.Tests;

/// <summary>
/// The test models are tiny and xunit runs test classes in parallel: libtorch's intra-op threads would only
/// oversubscribe the cores. One thread per test keeps the suite fast and its timings stable.
/// </summary>
internal static class SingleThreadedTorch
{
#pragma warning disable CA2255 // A test assembly owns its process; this must run before any test touches libtorch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialise() => set_num_threads(1);
}
