using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.EigenSolvers;

/// <summary>
/// Goal 3 of issue #17: every full dense symmetric eigendecomposition route available here, on the same exact Hessian
/// (float64, symmetrised as <c>DenseSpectrum</c> does). Baseline: libtorch <c>linalg.eigh</c> (values and vectors, what
/// the exact solver uses). Against it: libtorch <c>linalg.eigvalsh</c> (values only: enough for exact traces and the
/// spectrum, not for the complete alignment) and MathNet's managed <c>Evd</c> (values and vectors). The setup writes the
/// matrix to the temp directory (hg-eigh-P.f64, raw little-endian float64) so that
/// benchmarks/reference/numpy_eigh.py decomposes the same matrix with NumPy in the same run
/// (benchmarks/reference/run_speed_goals.sh). Thread count: the suite's --threads.
/// </summary>
[MemoryDiagnoser]
[MonitoringStrategy]
[WarmupCount(0)]
[IterationCount(2)]
public class DenseEigenDecompositionBenchmarks
{
    private Tensor matrix = null!;
    private double[,] managed = null!;

    /// <summary>p = 1,315 (MLP 4-32-32-3, trained) and p = 2,853 (2-50-50-3 ReLU on the three Gaussians); a 371-parameter stand-in in the dry pass.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Trained1315;

    /// <summary>The problems.</summary>
    public static IEnumerable<BenchmarkProblem> Problems => BenchmarkSettings.Choose(
        [BenchmarkProblems.Trained1315, new BenchmarkProblem("2-50-50-3/gauss3", [2, 50, 50, 3], "relu", "gauss3", 300, 0, 300, ScalarType.Float64)],
        [BenchmarkProblems.Dry]);

    /// <summary>Where the setup writes the matrix for the NumPy reference.</summary>
    public static string MatrixPath(long p) => Path.Combine(Path.GetTempPath(), $"hg-eigh-{p}.f64");

    [GlobalSetup]
    public void Setup()
    {
        var (model, x, y) = Problem.Create();
        using var op = BenchmarkProblems.Operator(model, x, y);
        using (var scope = NewDisposeScope())
        {
            var h = ExactHessian.Compute(op);
            matrix = ((h + h.T) / 2).contiguous().DetachFromDisposeScope();
        }
        var p = (int)matrix.shape[0];
        var flat = matrix.data<double>().ToArray();
        managed = new double[p, p];
        Buffer.BlockCopy(flat, 0, managed, 0, flat.Length * sizeof(double));
        var bytes = new byte[flat.Length * sizeof(double)];
        Buffer.BlockCopy(flat, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(MatrixPath(p), bytes);
        CaseMetrics.Once(this, "validate", Validate);
    }

    /// <summary>All routes must give the same eigenvalues (1e-10 of max|λ|) and small residuals before anything is timed.</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var (values, vectors) = linalg.eigh(matrix);
        var scale = values.abs().max().item<double>();
        var residual = (matrix.mm(vectors) - vectors * values.unsqueeze(0)).norm(0).max().item<double>() / scale;
        var valuesOnly = (linalg.eigvalsh(matrix) - values).abs().max().item<double>() / scale;
        var mathNet = 0.0;
        if (matrix.shape[0] <= ManagedLimit)
        {
            var evd = Matrix<double>.Build.DenseOfArray(managed).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
            mathNet = evd.EigenValues.Select(c => c.Real).Order().Zip(values.data<double>().ToArray(), (a, b) => Math.Abs(a - b)).Max() / scale;
        }
        if (!(residual < 1e-10) || !(valuesOnly < 1e-10) || !(mathNet < 1e-10))
            throw new InvalidOperationException($"Eigen routes disagree: eigh residual {residual:E2}, eigvalsh {valuesOnly:E2}, MathNet {mathNet:E2} (relative to max|λ|); refusing to time them.");
        CaseMetrics.Record(this, nameof(LibtorchEigh), "Max rel. residual", Format(residual));
        CaseMetrics.Record(this, nameof(LibtorchEigvalsh), "Max abs. diff", Format(valuesOnly) + " of max|λ|");
        CaseMetrics.Record(this, nameof(MathNetEvd), "Max abs. diff", Format(mathNet) + " of max|λ|");
    }

    private static string Format(double value) => value.ToString("0.0e0", CultureInfo.InvariantCulture);

    [GlobalCleanup]
    public void Cleanup() => matrix.Dispose();

    [Benchmark(Baseline = true, Description = "libtorch eigh (values + vectors)")]
    public void LibtorchEigh()
    {
        var (values, vectors) = linalg.eigh(matrix);
        values.Dispose();
        vectors.Dispose();
    }

    [Benchmark(Description = "libtorch eigvalsh (values only)")]
    public void LibtorchEigvalsh()
    {
        using var values = linalg.eigvalsh(matrix);
    }

    /// <summary>Largest p the managed decomposition is validated and timed at.</summary>
    private const int ManagedLimit = 1500;

    [Benchmark(Description = "MathNet managed Evd (values + vectors)")]
    [SkippedFor(nameof(Problem), "2-50-50-3/gauss3", "the managed EVD is several times slower than LAPACK at p = 1,315 already; at p = 2,853 it would take minutes per call on the loaded machine")]
    public void MathNetEvd() => Matrix<double>.Build.DenseOfArray(managed).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
}
