using System.CommandLine;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// The --threads option. Default 1: the demo-sized models gain nothing from a second libtorch thread, and on a busy
/// machine spinning intra-op threads compete with other processes (measured in docs/benchmarks.md, "CLI threads").
/// </summary>
internal static class TorchThreads
{
    public static Option<int> CreateOption() => new("--threads")
    {
        Description = "libtorch intra-op threads (default 1; more helps only for large models on an otherwise idle machine).",
        DefaultValueFactory = _ => 1,
    };

    /// <summary>Sets libtorch's intra-op thread count for this process.</summary>
    public static void Apply(int threads)
    {
        if (threads < 1)
            throw new ArgumentException($"--threads must be at least 1 but was {threads}.");
        HessianGeometryRuntime.UseOptimisedMklKernels(); // before MKL's first call: it chooses its kernels once
        set_num_threads(threads);
    }
}
