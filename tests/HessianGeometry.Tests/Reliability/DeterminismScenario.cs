using HessianGeometry.Analysis;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// A seeded analysis whose every number is reported as the hex of its IEEE-754 bits, so two runs (in one process or in
/// two) can be compared for bitwise equality: eigenvalues (Lanczos and LOBPCG), Hutchinson traces, the stochastic
/// Lanczos quadrature density, and the alignment of every input with every top eigenvector.
/// </summary>
internal static class DeterminismScenario
{
    public static SortedDictionary<string, string[]> Run()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(60, 3, 3, seed: 31);
        var model = SeededModel();
        var lanczos = HessianAnalysis.For(model).WithData(x, y, batchSize: 25).TopEigenpairs(3).BottomEigenpairs(1).WithTrace()
            .WithSpectralDensity(new SpectralDensityOptions { Runs = 3, Steps = 20, GridPoints = 64 }).WithAlignment().Seed(17).AnalyzeMinimum();
        var lobpcg = HessianAnalysis.For(model).WithData(x, y).UseSolver("lobpcg").TopEigenpairs(2).Seed(17).AnalyzeMinimum();
        return new SortedDictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["eigenvalues"] = Hex(lanczos.Eigenvalues!),
            ["bottom-eigenvalues"] = Hex(lanczos.BottomEigenvalues!),
            ["residual-norms"] = Hex(lanczos.ResidualNorms!),
            ["trace"] = Hex(lanczos.Trace!.Value, lanczos.TraceStandardError!.Value, lanczos.TraceOfSquare!.Value),
            ["density"] = Hex(lanczos.SpectralDensity!.Density),
            ["density-nodes"] = Hex(lanczos.SpectralDensity.Nodes.SelectMany(n => n).ToArray()),
            ["alignment"] = Hex(lanczos.Alignment!.SelectMany(row => row).ToArray()),
            ["lobpcg-eigenvalues"] = Hex(lobpcg.Eigenvalues!),
        };
    }

    /// <summary>
    /// A 3-6-3 tanh MLP (p = 45) whose weights come from a private generator: the global torch seed is shared with tests
    /// running in parallel, so a model initialised from it would not be reproducible inside the test process.
    /// </summary>
    private static nn.Module<Tensor, Tensor> SeededModel()
    {
        var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 0);
        var generator = new Generator(29);
        using (no_grad())
        {
            foreach (var p in model.parameters())
                p.copy_(randn(p.shape, dtype: p.dtype, generator: generator));
        }
        return model;
    }

    private static string[] Hex(params double[] values) => [.. values.Select(v => BitConverter.DoubleToInt64Bits(v).ToString("x16"))];
}
