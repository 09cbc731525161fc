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
    internal static void Initialise()
    {
        // A child process that checks how the library reports a broken native install must be the first to touch TorchSharp.
        if (Environment.GetEnvironmentVariable(SkipVariable) == "1")
            return;
        HessianGeometryRuntime.EnsureLoaded(); // first, as an application would: MKL chooses its kernels once (MklCodePath)
        set_num_threads(1);
    }

    internal const string SkipVariable = "HG_CHILD_SKIP_TORCH_INIT";
}
