using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.EigenSolvers;

/// <summary>
/// Goal 3 of issue #17: every full dense symmetric eigendecomposition route available here, on the same exact Hessian
/// (float64, symmetrised as <c>DenseSpectrum</c> does). Baseline: libtorch <c>linalg.eigh</c> (values and vectors, what
/// the exact solver uses). Against it: libtorch <c>linalg.eigvalsh</c> (values only: enough for exact traces and the
/// spectrum, not for the complete alignment), LAPACK <c>dsyevd</c> called directly by P/Invoke from libtorch_cpu.so (the
/// MKL routine behind <c>linalg.eigh</c>, without libtorch's copies; <c>dsyevr</c> and <c>dsyev</c> are not exported) and
/// MathNet's managed <c>Evd</c> (values and vectors), each at 1 and 2 libtorch/MKL threads; and the library's own
/// routes: the certified range-revealing decomposition (<see cref="RangeRevealingEigh"/>, all p pairs, residuals of the
/// range pairs and the certificate included) and <c>DenseSpectrum</c>'s full route (eigh plus its p³ residual product). Which MKL kernels ran
/// (<c>MklCodePath</c>: on AMD the vendor check is bypassed unless HESSIANGEOMETRY_MKL_VENDOR_CHECK=keep) is printed
/// in the "Max abs. diff" column of the baseline. The setup writes the
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

    /// <summary>The problems (the paper's p = 10,703 too), limited by HG_BENCH_MIN_P / HG_BENCH_MAX_P.</summary>
    public static IEnumerable<BenchmarkProblem> Problems
    {
        get
        {
            var all = BenchmarkSettings.Choose(
                [BenchmarkProblems.Trained1315, new BenchmarkProblem("2-50-50-3/gauss3", [2, 50, 50, 3], "relu", "gauss3", 300, 0, 300, ScalarType.Float64), BenchmarkProblems.Paper10k],
                [BenchmarkProblems.Dry]);
            return BenchmarkSettings.WithinSizeLimits(all);
        }
    }

    /// <summary>libtorch (and MKL) intra-op threads for the decomposition; the suite's --threads is restored afterwards.</summary>
    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; } = 1;

    /// <summary>1 and 2 threads (HG_BENCH_THREADS="1" or "2" keeps one); 1 in the dry pass.</summary>
    public static IEnumerable<int> ThreadCounts => BenchmarkSettings.IsDry ? [1]
        : Environment.GetEnvironmentVariable("HG_BENCH_THREADS") is { Length: > 0 } only ? only.Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))
        : [1, 2];

    /// <summary>Where the setup writes the matrix for the NumPy reference.</summary>
    public static string MatrixPath(long p) => Path.Combine(Path.GetTempPath(), $"hg-eigh-{p}.f64");

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(BenchmarkSettings.Threads);
        if (ExternalMatrix is { } external)
        {
            SetupExternal(external);
            return;
        }
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
        set_num_threads(Threads);
    }

    /// <summary>
    /// HG_EIGH_MATRIX: a raw little-endian float64 row-major p×p file (benchmarks/reference/paper_pipeline.py
    /// --save-hessian writes the authors' pipeline's own Hessian), decomposed instead of the problem's; with HG_EIGH_VALUES
    /// (NumPy's ascending eigenvalues of the same matrix) the range route is validated against NumPy instead of against
    /// every route here, so that at p = 10,703 only the route being timed runs (run with
    /// --filter '*DenseEigenDecomposition*RangeRevealing*').
    /// </summary>
    private static string? ExternalMatrix => Environment.GetEnvironmentVariable("HG_EIGH_MATRIX") is { Length: > 0 } path ? path : null;

    private void SetupExternal(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var p = (long)Math.Round(Math.Sqrt(bytes.Length / sizeof(double)));
        if (p * p * sizeof(double) != bytes.Length)
            throw new InvalidOperationException($"HG_EIGH_MATRIX {path} holds {bytes.Length} bytes, not a square float64 matrix.");
        var flat = new double[p * p];
        Buffer.BlockCopy(bytes, 0, flat, 0, bytes.Length);
        using (var scope = NewDisposeScope())
        {
            var a = tensor(flat, ScalarType.Float64).reshape(p, p);
            matrix = ((a + a.T) / 2).contiguous().DetachFromDisposeScope();
        }
        managed = p <= ManagedLimit ? new double[p, p] : new double[0, 0];
        if (p <= ManagedLimit)
            Buffer.BlockCopy(flat, 0, managed, 0, bytes.Length);
        var valuesPath = Environment.GetEnvironmentVariable("HG_EIGH_VALUES");
        if (valuesPath is not { Length: > 0 })
        {
            CaseMetrics.Once(this, "validate", Validate);
        }
        else
        {
            var raw = File.ReadAllBytes(valuesPath);
            var reference = new double[raw.Length / sizeof(double)];
            Buffer.BlockCopy(raw, 0, reference, 0, raw.Length);
            CaseMetrics.Once(this, "validate", () => ValidateRangeAgainst(reference));
        }
        set_num_threads(Threads);
    }

    /// <summary>The range route against an independent decomposition's eigenvalues (NumPy's), before it is timed.</summary>
    private void ValidateRangeAgainst(double[] reference)
    {
        if (reference.Length != matrix.shape[0])
            throw new InvalidOperationException($"HG_EIGH_VALUES holds {reference.Length} eigenvalues for a matrix of order {matrix.shape[0]}.");
        var scale = reference.Max(Math.Abs);
        var range = RangeRevealingEigh.TryDecompose(matrix);
        if (range.Vectors is not { } rangeVectors)
        {
            CaseMetrics.Record(this, nameof(RangeRevealing), "Max abs. diff", "gives up: " + range.FallbackReason);
            return;
        }
        rangeVectors.Dispose();
        var difference = range.Eigenvalues.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / scale;
        if (!(difference < 1e-10))
            throw new InvalidOperationException($"The range-revealing route's eigenvalues differ from NumPy's by {difference:E2} of max|λ|; refusing to time it.");
        CaseMetrics.Record(this, nameof(RangeRevealing), "Max rel. residual", $"r = {range.Rank}, ‖E‖/‖A‖ = {Format(range.RelativeError)} (τ {Format(range.Tolerance)})");
        CaseMetrics.Record(this, nameof(RangeRevealing), "Max abs. diff", Format(difference) + " of max|λ| vs NumPy");
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
        var (directValues, directVectors) = Syevd(matrix);
        var direct = directValues.Zip(values.data<double>().ToArray(), (a, b) => Math.Abs(a - b)).Max() / scale;
        using var v = tensor(directVectors).reshape(matrix.shape[0], matrix.shape[0]).T;
        var directResidual = (matrix.mm(v) - v * tensor(directValues).unsqueeze(0)).norm(0).max().item<double>() / scale;
        if (!(residual < 1e-10) || !(valuesOnly < 1e-10) || !(mathNet < 1e-10) || !(direct < 1e-10) || !(directResidual < 1e-10))
            throw new InvalidOperationException($"Eigen routes disagree: eigh residual {residual:E2}, eigvalsh {valuesOnly:E2}, MathNet {mathNet:E2}, dsyevd {direct:E2} (residual {directResidual:E2}) (relative to max|λ|); refusing to time them.");
        // The range route must give the same eigenvalues (its null-space ones exactly 0) and pass its own certificate;
        // when it gives up, what is timed is the cost of trying (the waste Auto pays before falling back).
        var range = RangeRevealingEigh.TryDecompose(matrix);
        if (range.Vectors is { } rangeVectors)
        {
            using var rv = rangeVectors;
            var rangeValues = range.Eigenvalues.Zip(values.data<double>().ToArray(), (a, b) => Math.Abs(a - b)).Max() / scale;
            if (!(rangeValues < 1e-10))
                throw new InvalidOperationException($"The range-revealing route's eigenvalues differ from eigh's by {rangeValues:E2} of max|λ|; refusing to time it.");
            CaseMetrics.Record(this, nameof(RangeRevealing), "Max rel. residual", $"r = {range.Rank}, ‖E‖/‖A‖ = {Format(range.RelativeError)} (τ {Format(range.Tolerance)})");
            CaseMetrics.Record(this, nameof(RangeRevealing), "Max abs. diff", Format(rangeValues) + " of max|λ|");
        }
        else
        {
            CaseMetrics.Record(this, nameof(RangeRevealing), "Max abs. diff", "gives up: " + range.FallbackReason);
        }
        CaseMetrics.Record(this, nameof(LibtorchEigh), "Max rel. residual", Format(residual));
        CaseMetrics.Record(this, nameof(LibtorchEigh), "Max abs. diff", "MKL: " + HessianGeometry.Internal.MklCodePath.Status);
        CaseMetrics.Record(this, nameof(DirectSyevd), "Max rel. residual", Format(directResidual));
        CaseMetrics.Record(this, nameof(DirectSyevd), "Max abs. diff", Format(direct) + " of max|λ|");
        CaseMetrics.Record(this, nameof(LibtorchEigvalsh), "Max abs. diff", Format(valuesOnly) + " of max|λ|");
        CaseMetrics.Record(this, nameof(MathNetEvd), "Max abs. diff", Format(mathNet) + " of max|λ|");
    }

    private static string Format(double value) => value.ToString("0.0e0", CultureInfo.InvariantCulture);

    [GlobalCleanup]
    public void Cleanup()
    {
        matrix.Dispose();
        set_num_threads(BenchmarkSettings.Threads);
    }

    [Benchmark(Baseline = true, Description = "libtorch eigh (values + vectors)")]
    public void LibtorchEigh()
    {
        var (values, vectors) = linalg.eigh(matrix);
        values.Dispose();
        vectors.Dispose();
    }

    [Benchmark(Description = "range-revealing, certified (values + vectors)")]
    public void RangeRevealing() => RangeRevealingEigh.TryDecompose(matrix).Vectors?.Dispose();

    [Benchmark(Description = "DenseSpectrum full route (eigh + residual product)")]
    public void DenseSpectrumFull() => DenseSpectrum.FromMatrix(matrix, method: EigendecompositionMethod.Full).Dispose();

    [Benchmark(Description = "LAPACK dsyevd by P/Invoke (values + vectors)")]
    public void DirectSyevd() => Syevd(matrix);

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

    /// <summary>
    /// dsyevd("V", "L") on a copy of the matrix, column-major (the matrix is symmetric, so its row-major buffer is its
    /// column-major one). Returns the ascending eigenvalues and the eigenvectors as a column-major p·p buffer (row-major Vᵀ).
    /// </summary>
    private static (double[] Values, double[] Vectors) Syevd(Tensor symmetric)
    {
        var n = (int)symmetric.shape[0];
        var a = symmetric.data<double>().ToArray();
        var w = new double[n];
        byte jobz = (byte)'V', uplo = (byte)'L';
        int lda = n, query = -1, iquery = -1;
        var workSize = new double[1];
        var iworkSize = new int[1];
        Lapack.Dsyevd(ref jobz, ref uplo, ref n, a, ref lda, w, workSize, ref query, iworkSize, ref iquery, out var info);
        int lwork = (int)workSize[0], liwork = iworkSize[0];
        Lapack.Dsyevd(ref jobz, ref uplo, ref n, a, ref lda, w, new double[lwork], ref lwork, new int[liwork], ref liwork, out info);
        if (info != 0)
            throw new InvalidOperationException($"dsyevd returned info = {info}.");
        return (w, a);
    }

    private static class Lapack
    {
        [DllImport("libtorch_cpu.so", EntryPoint = "dsyevd_")]
        public static extern void Dsyevd(ref byte jobz, ref byte uplo, ref int n, double[] a, ref int lda, double[] w, double[] work, ref int lwork, int[] iwork, ref int liwork, out int info);
    }
}
