using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

public sealed class LanczosTests
{
    /// <summary>
    /// The benchmark target: top-5 at relative residual ≤ 1e-6 on the 1,315-parameter MLP (4-32-32-3, n = 512) in at
    /// most 40 HVPs. The network is trained first (100 full-batch Adam steps), which gives the Hessian its few
    /// outliers; at initialisation λ_5 and λ_6 differ by ~1% of the spectral width and Lanczos needs 77–112.
    /// The residuals are recomputed with fresh HVPs and the eigenvalues checked against LOBPCG at a tighter tolerance.
    /// </summary>
    [Fact]
    public void TopFive_OnTrained1315ParameterMlp_ConvergeWithin40Hvps()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(512, 4, 3, seed: 1);
        var model = TinyModels.Mlp([4, 32, 32, 3], "tanh", seed: 1);
        TinyTraining.CrossEntropyAdam(model, x, y, steps: 100);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Equal(1315, op.Dimension);

        var before = op.ApplicationCount;
        using var result = new Lanczos().Solve(op, new EigenSolverOptions { Count = 5, Tolerance = 1e-6, Seed = 0 });
        Assert.True(result.Converged);
        Assert.Equal(op.ApplicationCount - before, result.OperatorApplications);
        Assert.True(result.OperatorApplications <= 40, $"Lanczos used {result.OperatorApplications} HVPs for the top 5 (target ≤ 40).");

        for (var i = 0; i < 5; i++)
        {
            var v = result.Eigenvectors[.., i].contiguous();
            var residual = (op.Apply(v) - v * result.Eigenvalues[i]).norm().item<double>();
            Assert.True(residual / Math.Abs(result.Eigenvalues[i]) <= 1.01e-6, $"pair {i}: recomputed relative residual {residual / Math.Abs(result.Eigenvalues[i]):G3}.");
        }
        using var reference = new Lobpcg().Solve(op, new EigenSolverOptions { Count = 5, Tolerance = 1e-9, Seed = 1 });
        Assert.True(reference.Converged);
        for (var i = 0; i < 5; i++)
            Assert.True(Math.Abs(result.Eigenvalues[i] - reference.Eigenvalues[i]) <= 2e-6 * Math.Abs(reference.Eigenvalues[i]), $"λ[{i}]: {result.Eigenvalues[i]:R} vs LOBPCG {reference.Eigenvalues[i]:R}.");
    }

    /// <summary>
    /// A Krylov sequence from one vector sees one direction per distinct eigenvalue; the verification probe must still
    /// return every copy of 10 (dense matrix with a random eigenbasis, so no breakdown helps).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RepeatedTopEigenvalue_SmallK_ReturnsEveryCopy(int k)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(1);
        var values = new double[] { 10, 10, 10, 9 }.Concat(Enumerable.Range(0, 196).Select(_ => 5 * rng.NextDouble())).ToArray();
        using var spectrum = KnownSpectrum.Create(values, seed: 2);
        using var result = new Lanczos().Solve(spectrum.Operator, new EigenSolverOptions { Count = k, Tolerance = 1e-8, Seed = 3 });
        var expected = DenseEigen.Expected(DenseEigen.Eigenvalues(spectrum.Matrix), SpectrumEnd.LargestAlgebraic, k);
        DenseEigen.AssertMatches(result, spectrum.Matrix, expected, 1e-7, 1e-7);
    }

    /// <summary>A missed copy of an outlier above a tiny bulk: the probe's first residual is small, its minimum length still finds it.</summary>
    [Fact]
    public void RepeatedOutlierAboveTinyBulk_IsFoundByTheProbe()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(4);
        var values = new double[] { 10, 10, 5 }.Concat(Enumerable.Range(0, 497).Select(_ => 0.01 * rng.NextDouble())).ToArray();
        using var spectrum = KnownSpectrum.Create(values, seed: 5);
        using var result = new Lanczos().Solve(spectrum.Operator, new EigenSolverOptions { Count = 2, Tolerance = 1e-8, Seed = 6 });
        DenseEigen.AssertMatches(result, spectrum.Matrix, [10, 10], 1e-7, 1e-7);
    }

    /// <summary>
    /// Copies where the probe has least room: a double eigenvalue at the k-th place of a Hessian-like spectrum (outliers
    /// over a bulk of both signs), and a double top eigenvalue only 25% above a dense bulk. The verification probe runs on
    /// the operator deflated by the whole Krylov space already built, and must still return every copy.
    /// </summary>
    [Theory]
    [InlineData("copy-at-k", 1)]
    [InlineData("copy-at-k", 2)]
    [InlineData("copy-at-k", 3)]
    [InlineData("top-copy-near-bulk", 1)]
    [InlineData("top-copy-near-bulk", 2)]
    [InlineData("top-copy-near-bulk", 3)]
    public void RepeatedEigenvalue_WhereTheProbeHasLeastRoom_ReturnsEveryCopy(string spectrumName, int seed)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var values = spectrumName == "copy-at-k"
            ? new double[] { 136, 113, 74, 12, 12 }.Concat(Enumerable.Range(0, 495).Select(_ => -3 + 8 * Math.Pow(rng.NextDouble(), 2))).ToArray()
            : new double[] { 10, 10, 9, 8.5 }.Concat(Enumerable.Range(0, 396).Select(_ => 8 * rng.NextDouble())).ToArray();
        var k = spectrumName == "copy-at-k" ? 5 : 3;
        using var spectrum = KnownSpectrum.Create(values, seed: 20 + seed);
        using var result = new Lanczos().Solve(spectrum.Operator, new EigenSolverOptions { Count = k, Tolerance = 1e-8, Seed = 30 + seed });
        var expected = DenseEigen.Expected(DenseEigen.Eigenvalues(spectrum.Matrix), SpectrumEnd.LargestAlgebraic, k);
        DenseEigen.AssertMatches(result, spectrum.Matrix, expected, 1e-7, 1e-7);
    }

    /// <summary>
    /// Four distinct values, ten copies each: every Krylov space is invariant after four steps (β = 0), so the solve
    /// must continue from fresh vectors (breakdown handling) and probe until six copies of 2 are found.
    /// </summary>
    [Fact]
    public void InvariantSubspaceBreakdown_ContinuesWithFreshVectors()
    {
        using var scope = NewDisposeScope();
        var values = Enumerable.Range(0, 40).Select(i => (double)(i % 4) - 1).ToArray();
        using var op = KnownSpectrum.Diagonal(values);
        using var result = new Lanczos().Solve(op, new EigenSolverOptions { Count = 6, Tolerance = 1e-10, Seed = 7, KrylovDimension = 12 });
        DenseEigen.AssertMatches(result, diag(op.Diagonal), [2, 2, 2, 2, 2, 2], 1e-9, 1e-9);
    }

    /// <summary>A basis of 12 for 5 wanted pairs forces several thick restarts; the result must not suffer.</summary>
    [Fact]
    public void SmallKrylovBasis_ThickRestarts_StillConverge()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(200, [50, 30, 20, 12, 8, 6.5], 1.0, seed: 8), seed: 9);
        using var result = new Lanczos().Solve(spectrum.Operator, new EigenSolverOptions { Count = 5, Tolerance = 1e-9, Seed = 10, KrylovDimension = 12 });
        Assert.True(result.Iterations >= 3, $"expected several restart cycles, got {result.Iterations}.");
        DenseEigen.AssertMatches(result, spectrum.Matrix, [50, 30, 20, 12, 8], 1e-8, 1e-8);
    }

    /// <summary>The recurrence runs in float64 even for a float32 operator, so the pairs reach float32 accuracy.</summary>
    [Fact]
    public void Float32Operator_ConvergesToFloat32Accuracy()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(150, [20, 10, 5], 0.5, seed: 11), seed: 12, dtype: ScalarType.Float32);
        using var result = new Lanczos().Solve(spectrum.Operator, new EigenSolverOptions { Count = 3, Tolerance = 1e-5, Seed = 13 });
        Assert.Equal(ScalarType.Float64, result.Eigenvectors.dtype);
        DenseEigen.AssertMatches(result, spectrum.Matrix, DenseEigen.Expected(DenseEigen.Eigenvalues(spectrum.Matrix), SpectrumEnd.LargestAlgebraic, 3), 2e-5, 2e-5, operatorPrecision: 1e-6);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    [InlineData(51)]
    public void KrylovDimension_OutsideKPlusOneToP_Throws(int m)
    {
        using var scope = NewDisposeScope();
        using var op = KnownSpectrum.Diagonal([.. Enumerable.Range(1, 50).Select(i => (double)i)]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Lanczos().Solve(op, new EigenSolverOptions { Count = 3, KrylovDimension = m }));
        Assert.Contains("KrylovDimension", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultKrylovDimension_IsKPlus35_CappedAtP()
    {
        Assert.Equal(40, Lanczos.DefaultKrylovDimension(5, 1315));
        Assert.Equal(55, Lanczos.DefaultKrylovDimension(20, 1315));
        Assert.Equal(81, Lanczos.DefaultKrylovDimension(40, 1315));
        Assert.Equal(30, Lanczos.DefaultKrylovDimension(5, 30));
    }
}
