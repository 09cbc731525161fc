using HessianGeometry.Internal;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// Entry point of this assembly when it runs as a child process (<c>dotnet exec HessianGeometry.Tests.dll MODE ...</c>);
/// the test runner itself never calls it. Each mode prints its results as <see cref="ChildProcess.ResultMarker"/> lines of
/// JSON and exits with 0; a native abort shows up as exit code 134 with no result line.
/// </summary>
public static class ChildProcessProgram
{
    public static int Main(string[] args)
    {
        SingleThreadedTorch.Initialise();
        var mode = args.Length > 0 ? args[0] : string.Empty;
        switch (mode)
        {
            case "bad-input":
            {
                var (type, message) = BadInputMatrixTests.RunHere(BadInputMatrix.Find(args[1]));
                Emit(new { type, message });
                return 0;
            }
            case "describe-matrix":
                // Prints every row with the exception it raises here; docs/failure-modes.md is written from this output.
                foreach (var row in BadInputMatrix.All)
                {
                    var (type, message) = BadInputMatrixTests.RunHere(row);
                    Emit(new { row.Name, row.Area, isolation = row.Isolation.ToString(), expected = row.Expected.FullName, type, message });
                }
                return 0;
            case "determinism":
                Emit(DeterminismScenario.Run());
                return 0;
            case "resources":
            {
                // The warm-up is two full passes of the same work: after one pass the allocator was still settling (RSS
                // +2-6 % over the next pass, +0 % over a pass twice as long), which is warm-up, not a leak.
                // HG_RESOURCE_SCALE=k runs a loop k times as long, to tell a leak (grows with k) from settling.
                var scale = int.TryParse(Environment.GetEnvironmentVariable("HG_RESOURCE_SCALE"), out var s) && s > 0 ? s : 1;
                Emit(ResourceScenario.Run(products: 10_000 * scale, lanczosRuns: 200 * scale, warmUpProducts: 20_000, warmUpRuns: 400));
                return 0;
            }
            case "convolution-passes":
            {
                // convolution-passes DTYPE PASSES SCOPE(on|off) [THREADS [BATCH SIZE CHANNELS]]: the reproduction and timing
                // probe behind docs/convolutions.md.
                var dtype = args[1] == "float32" ? ScalarType.Float32 : ScalarType.Float64;
                int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], System.Globalization.CultureInfo.InvariantCulture) : fallback;
                set_num_threads(Arg(4, 1));
                using var backends = args[3] == "on" ? ConvolutionBackendScope.Enter() : null;
                var outcome = ConvolutionScenario.Run(dtype, Arg(2, 30), batch: Arg(5, 16), size: Arg(6, 12), channels: Arg(7, 8));
                Emit(new { outcome, backends = ConvolutionBackendScope.Describe(), threads = get_num_threads() });
                return 0;
            }
            case "convolution-timing":
            {
                // convolution-timing DTYPE ROUNDS BATCH SIZE CHANNELS [THREADS]: the cost table in docs/convolutions.md.
                int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], System.Globalization.CultureInfo.InvariantCulture) : fallback;
                set_num_threads(Arg(6, 1));
                var dtype = args[1] == "float32" ? ScalarType.Float32 : ScalarType.Float64;
                Emit(new { timing = ConvolutionScenario.Time(dtype, Arg(2, 20), Arg(3, 16), Arg(4, 12), Arg(5, 8)), threads = get_num_threads() });
                return 0;
            }
            case "convolution-stderr":
            {
                // convolution-stderr SCOPE(on|off): Conv2d forward and backward passes; the parent reads this process's stderr.
                // Float64, because oneDNN takes float32 convolutions before NNPACK is asked: in float64 libtorch asks NNPACK
                // (and, on a CPU it does not support, logs a line) on every convolution.
                using var backends = args[1] == "on" ? ConvolutionBackendScope.Enter() : null;
                var outcome = ConvolutionScenario.Run(ScalarType.Float64, passes: 2);
                Console.Error.Flush();
                Emit(new { finite = outcome.NonFiniteGradients == 0, backends = ConvolutionBackendScope.Describe() });
                return 0;
            }
            case "native-heap":
            {
                // native-heap tune|optout: heap kept after freeing libtorch temporaries, before and after the first
                // EmpiricalRisk-style call that fixes glibc malloc's thresholds (NativeHeapSettingsTests).
                var before = NativeHeapScenario.PageFaultsPerProduct();
                HessianGeometryRuntime.TuneNativeHeap = args[1] != "optout";
                NativeHeapSettings.EnsureApplied();
                var after = NativeHeapScenario.PageFaultsPerProduct();
                Emit(new { before, after, description = HessianGeometryRuntime.DescribeNativeHeap() });
                return 0;
            }
            case "ensure-loaded":
            {
                // Run with HG_CHILD_SKIP_TORCH_INIT=1 so that nothing touches TorchSharp before the library's check.
                try
                {
                    HessianGeometryRuntime.EnsureLoaded();
                    Emit(new { type = (string?)null, message = (string?)null });
                }
                catch (Exception ex)
                {
                    Emit(new { type = ex.GetType().FullName, message = ex.Message });
                }
                return 0;
            }
            case "mkl-eigh":
            {
                // A seeded symmetric matrix decomposed on whichever MKL kernels this process got (MklCodePathTests):
                // "mkl-eigh optimised" asks for the optimised kernels first, as the CLI does; plain "mkl-eigh" does not.
                if (args.Length > 1 && args[1] == "optimised")
                    HessianGeometryRuntime.UseOptimisedMklKernels();
                using var scope = NewDisposeScope();
                var a = randn(400, 400, dtype: ScalarType.Float64, generator: new Generator(11));
                using var spectrum = HessianGeometry.EigenSolvers.DenseSpectrum.FromMatrix(a.mm(a.T) / 400 - eye(400, dtype: ScalarType.Float64));
                Emit(new { status = HessianGeometry.Internal.MklCodePath.Status, route = spectrum.Route.Route, eigenvalues = spectrum.Eigenvalues, residual = spectrum.ResidualNorms.Max() });
                return 0;
            }
            case "abort-inside-autograd":
            {
                // Deliberately unguarded: proves that the harness sees a native abort (exit code 134, no result line).
                var used = randn(3, requires_grad: true);
                var unused = randn(3, requires_grad: true);
                torch.autograd.grad([(used * used).sum()], [used, unused]);
                Emit(new { survived = true });
                return 0;
            }
            default:
                Console.Error.WriteLine($"Unknown mode '{mode}'.");
                return 2;
        }
    }

    internal static void Emit(object value)
    {
        Console.WriteLine(ChildProcess.ResultMarker + JsonSerializer.Serialize(value));
        Console.Out.Flush();
    }
}
