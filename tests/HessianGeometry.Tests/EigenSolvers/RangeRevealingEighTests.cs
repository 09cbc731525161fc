using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

/// <summary>
/// The range-revealing dense route against <c>linalg.eigh</c> on the same matrix: spectra known by construction
/// (negative, repeated, rank 0, full rank), exact Hessians of a ReLU MLP (low rank) and a tanh MLP (full rank), and the
/// analysis on top of it (top/bottom pairs, the well-defined part of the complexity count).
/// </summary>
public sealed class RangeRevealingEighTests
{
    public static TheoryData<string, double[], int> LowRankCases => new()
    {
        { "signed, some repeated", Padded([-5, -2, -2, 0.5, 3, 3, 3, 10], 240), 8 },
        { "one repeated cluster of each sign", Padded([.. Enumerable.Repeat(4.0, 12), .. Enumerable.Repeat(-1.0, 5)], 200), 17 },
        { "40 random values over four decades", Padded(RandomValues(40, seed: 7), 300), 40 },
        { "positive only, rank 1", Padded([2.5], 120), 1 },
    };

    [Theory]
    [MemberData(nameof(LowRankCases))]
    public void ForcedRange_OnAKnownLowRankSpectrum_MatchesEigh_WithOrthonormalVectors_AndCertifiedResiduals(string name, double[] spectrum, int rank)
    {
        using var scope = NewDisposeScope();
        using var known = KnownSpectrum.Create(spectrum, seed: 21);
        using var range = DenseSpectrum.FromMatrix(known.Matrix, method: EigendecompositionMethod.Range);
        var p = spectrum.Length;
        var scale = spectrum.Max(Math.Abs);
        var reference = linalg.eigvalsh(range.Matrix).data<double>().ToArray();
        for (var i = 0; i < p; i++)
            Assert.True(Math.Abs(range.Eigenvalues[i] - reference[i]) <= 1e-12 * scale, $"{name}: λ[{i}] = {range.Eigenvalues[i]:G17} vs eigh {reference[i]:G17}");
        var sorted = spectrum.Order().ToArray();
        for (var i = 0; i < p; i++)
            Assert.True(Math.Abs(range.Eigenvalues[i] - sorted[i]) <= 1e-12 * scale, $"{name}: λ[{i}] vs the constructed spectrum");

        var route = range.Route;
        Assert.Contains("range-revealing", route.Route, StringComparison.Ordinal);
        Assert.Equal("range", route.Requested);
        Assert.Equal(rank, route.Rank);
        Assert.True(route.RelativeError <= route.Tolerance, $"{name}: certificate {route.RelativeError:E2} above τ {route.Tolerance:E2}");
        Assert.Equal(RangeRevealingEigh.Tolerance(p), route.Tolerance);
        Assert.Contains("bound", route.Note!, StringComparison.Ordinal);
        Assert.Equal(p - rank, range.ResidualIsBound.Count(b => b));

        AssertOrthonormal(range.Eigenvectors, name);
        AssertResiduals(range, name);
    }

    [Fact]
    public void ForcedRange_OnTheZeroMatrix_ReturnsRankZero_TheIdentityBasis_AndZeroEigenvalues()
    {
        using var scope = NewDisposeScope();
        using var range = DenseSpectrum.FromMatrix(zeros(50, 50, dtype: ScalarType.Float64), method: EigendecompositionMethod.Range);
        Assert.Equal(0, range.Route.Rank);
        Assert.All(range.Eigenvalues, v => Assert.Equal(0.0, v));
        Assert.Equal(0.0, (range.Eigenvectors - eye(50, dtype: ScalarType.Float64)).abs().max().item<double>());
        Assert.All(range.ResidualNorms, r => Assert.Equal(0.0, r));
    }

    [Fact]
    public void ForcedRange_OnAFullRankMatrix_ThrowsAndSaysWhy_WhileAutoFallsBackToEigh()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(5);
        var b = randn(200, 200, dtype: ScalarType.Float64, generator: g);
        var error = Assert.Throws<InvalidOperationException>(() => DenseSpectrum.FromMatrix(b + b.T, method: EigendecompositionMethod.Range));
        Assert.Contains("exceeded", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auto", error.Message, StringComparison.Ordinal);

        var p = RangeRevealingEigh.MinimumDimension;
        var big = randn(p, p, dtype: ScalarType.Float64, generator: g);
        using var auto = DenseSpectrum.FromMatrix(big + big.T);
        Assert.Contains("linalg.eigh", auto.Route.Route, StringComparison.Ordinal);
        Assert.Equal("auto", auto.Route.Requested);
        Assert.Contains("abandoned", auto.Route.Note!, StringComparison.Ordinal);
        Assert.True(auto.Route.Rank > RangeRevealingEigh.MaxRankFraction * p);
        Assert.All(auto.ResidualIsBound, flag => Assert.False(flag));
        var reference = linalg.eigvalsh(auto.Matrix).data<double>().ToArray();
        var scale = reference.Max(Math.Abs);
        Assert.Equal(reference, auto.Eigenvalues.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-12 * scale);
    }

    [Fact]
    public void Auto_BelowTheMinimumDimension_RunsEigh_AndSaysSo()
    {
        using var scope = NewDisposeScope();
        using var known = KnownSpectrum.Create(Padded([3, -1], 60), seed: 2);
        using var auto = DenseSpectrum.FromMatrix(known.Matrix);
        Assert.Contains("linalg.eigh", auto.Route.Route, StringComparison.Ordinal);
        Assert.Contains($"< {RangeRevealingEigh.MinimumDimension}", auto.Route.Note!, StringComparison.Ordinal);
        Assert.Null(auto.Route.Rank);
        using var full = DenseSpectrum.FromMatrix(known.Matrix, method: EigendecompositionMethod.Full);
        Assert.Null(full.Route.Note);
        Assert.Equal("full", full.Route.Requested);
    }

    [Fact]
    public void ReluMlpHessian_HasTheStructuralRank_AndTheRangeRouteAgreesWithEigh_PairByPairWhereTheyAreDefined()
    {
        using var scope = NewDisposeScope();
        const int samples = 12, classes = 3;
        var hessian = MlpHessian("relu", [2, 24, 24, classes], samples, seed: 31);
        var p = (int)hessian.shape[0];
        using var full = DenseSpectrum.FromMatrix(hessian, method: EigendecompositionMethod.Full);
        // A narrow net is only moderately low-rank (r/p above the default limit of 1/4), so the limit is raised here.
        using var range = DenseSpectrum.FromMatrix(hessian, method: EigendecompositionMethod.Range, maxRankFraction: 0.6);
        var scale = full.Eigenvalues.Max(Math.Abs);
        // GGN rank ≤ n(C − 1); the residual has zero diagonal layer blocks, so rank ≤ 2(p − p_largest layer) (docs/solvers.md).
        var bound = samples * (classes - 1) + 2 * (p - (24 * 24 + 24));
        Assert.True(range.Route.Rank <= bound, $"rank {range.Route.Rank} above the structural bound {bound} (p = {p})");
        Assert.True(range.Route.Rank < p / 2, $"rank {range.Route.Rank} of p = {p}");
        for (var i = 0; i < p; i++)
            Assert.True(Math.Abs(range.Eigenvalues[i] - full.Eigenvalues[i]) <= 1e-12 * scale, $"λ[{i}] = {range.Eigenvalues[i]:G17} vs eigh {full.Eigenvalues[i]:G17}");
        AssertOrthonormal(range.Eigenvectors, "relu");
        AssertResiduals(range, "relu");

        // The top and bottom pairs (separated eigenvalues) are the same pairs with the same sign convention.
        foreach (var which in new[] { SpectrumEnd.LargestAlgebraic, SpectrumEnd.SmallestAlgebraic })
        {
            using var a = full.Pairs(which, 3, 1e-8);
            using var b = range.Pairs(which, 3, 1e-8);
            for (var i = 0; i < 3; i++)
            {
                Assert.True(Math.Abs(a.Eigenvalues[i] - b.Eigenvalues[i]) <= 1e-12 * scale);
                var gap = (a.Eigenvectors[.., i] - b.Eigenvectors[.., i]).abs().max().item<double>();
                Assert.True(gap < 1e-8, $"{which} eigenvector {i} differs by {gap:G3}");
            }
            Assert.True(b.Converged);
        }
    }

    [Fact]
    public void TanhMlpHessian_IsNotLowRank_SoTheRouteGivesUp()
    {
        using var scope = NewDisposeScope();
        var hessian = MlpHessian("tanh", [2, 12, 12, 3], samples: 60, seed: 32);
        var outcome = RangeRevealingEigh.TryDecompose((hessian + hessian.T) / 2);
        Assert.Null(outcome.Vectors);
        Assert.Contains("exceeded", outcome.FallbackReason!, StringComparison.Ordinal);
    }

    [Fact]
    public void ExactAnalysis_RangeAndFull_GiveTheSameTopPairs_AndTheSameWellDefinedComplexityCount()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(12, 2, 3, seed: 41, spread: 0.8);
        var model = TinyModels.Mlp([2, 24, 24, 3], "relu", 41);
        TinyTraining.CrossEntropyAdam(model, x, y, 100, 0.02);
        model.eval();
        MinimumReport Run(EigendecompositionMethod method) => HessianAnalysis.For(model).WithData(x, y).UseSolver(new DenseEigenSolver(method: method, maxRankFraction: 0.6))
            .TopEigenpairs(5).BottomEigenpairs(2).WithAlignment().WithBoundaryComplexity().AnalyzeMinimum();
        var full = Run(EigendecompositionMethod.Full);
        var range = Run(EigendecompositionMethod.Range);

        Assert.Contains("range-revealing", range.TopEigenpairs!.Eigendecomposition!.Route, StringComparison.Ordinal);
        Assert.NotNull(range.TopEigenpairs.Eigendecomposition.Rank);
        Assert.Contains("linalg.eigh", full.TopEigenpairs!.Eigendecomposition!.Route, StringComparison.Ordinal);
        var scale = Math.Abs(full.TopEigenpairs.Eigenvalues[0]);
        Assert.Equal(full.TopEigenpairs.Eigenvalues, range.TopEigenpairs.Eigenvalues, (a, b) => Math.Abs(a - b) <= 1e-12 * scale);
        Assert.Equal(full.BottomEigenpairs!.Eigenvalues, range.BottomEigenpairs!.Eigenvalues, (a, b) => Math.Abs(a - b) <= 1e-12 * scale);

        var a = full.Complexity!.Degeneracy!;
        var b = range.Complexity!.Degeneracy!;
        Assert.Equal(p(model), full.Complexity.EigenvectorsConsidered);
        Assert.Equal(a.IsolatedEigenvalues, b.IsolatedEigenvalues);
        Assert.Equal(a.WellDefinedCountMean, b.WellDefinedCountMean);
        Assert.Equal(a.WellDefinedCountMax, b.WellDefinedCountMax);

        var json = MinimumReportJson.Serialize(range);
        Assert.Contains("\"relativeError\"", json, StringComparison.Ordinal);
        Assert.Equal(range.TopEigenpairs.Eigendecomposition, MinimumReportJson.Deserialize(json).TopEigenpairs!.Eigendecomposition);

        static int p(TorchSharp.Modules.Sequential m) => (int)m.parameters().Sum(t => t.numel());
    }

    [Fact]
    public void BuilderChoice_ReachesTheExactSolver()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 2, 3, seed: 43);
        var model = TinyModels.Mlp([2, 8, 3], "tanh", 43);
        var full = HessianAnalysis.For(model).WithData(x, y).UseSolver("exact").WithEigendecomposition(EigendecompositionMethod.Full).TopEigenpairs(2).AnalyzeMinimum();
        Assert.Equal("full", full.TopEigenpairs!.Eigendecomposition!.Requested);
        Assert.Equal(EigendecompositionMethod.Full, full.Options.ExactEigendecomposition);
        // A smooth net's Hessian is not low-rank: the forced route refuses instead of returning an uncertified answer.
        var error = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithData(x, y).UseSolver("exact")
            .WithEigendecomposition(EigendecompositionMethod.Range).TopEigenpairs(2).AnalyzeMinimum());
        Assert.Contains("range-revealing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RangeRoute_LeavesNoLiveTensors_AndHonoursCancellation()
    {
        using var known = KnownSpectrum.Create(Padded([6, -2, 1], 150), seed: 8);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        DenseSpectrum.FromMatrix(known.Matrix, method: EigendecompositionMethod.Range).Dispose();
        RangeRevealingEigh.TryDecompose(known.Matrix).Vectors?.Dispose();
        using (var b = randn(150, 150, dtype: ScalarType.Float64, generator: new Generator(9)))
        using (var transposed = b.T)
        using (var full = b + transposed)
            Assert.Null(RangeRevealingEigh.TryDecompose(full).Vectors); // the give-up path
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => DenseSpectrum.FromMatrix(known.Matrix, method: EigendecompositionMethod.Range, cancellationToken: cancelled.Token));
    }

    [Fact]
    public void UndefinedMethod_IsRefused_WithTheChoices()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DenseEigenSolver(method: (EigendecompositionMethod)7));
        Assert.Contains("Auto, Full or Range", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => HessianAnalysis.For(TinyModels.Mlp([2, 3], "relu", 1)).WithEigendecomposition((EigendecompositionMethod)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DenseEigenSolver(maxRankFraction: 0));
    }

    private static void AssertOrthonormal(Tensor v, string name)
    {
        using var scope = NewDisposeScope();
        var p = v.shape[0];
        var defect = (v.T.mm(v) - eye(p, dtype: ScalarType.Float64)).abs().max().item<double>();
        Assert.True(defect <= 1e-12, $"{name}: |VᵀV − I| = {defect:E2}");
    }

    // Computed residuals equal a recomputation; the null-space ones are bounds that hold.
    private static void AssertResiduals(DenseSpectrum spectrum, string name)
    {
        using var scope = NewDisposeScope();
        var a = spectrum.Matrix;
        var v = spectrum.Eigenvectors;
        var actual = (a.mm(v) - v * tensor(spectrum.Eigenvalues.ToArray()).unsqueeze(0)).norm(0).data<double>().ToArray();
        var scale = spectrum.Eigenvalues.Max(Math.Abs);
        for (var i = 0; i < actual.Length; i++)
        {
            if (spectrum.ResidualIsBound[i])
                Assert.True(actual[i] <= spectrum.ResidualNorms[i] * (1 + 1e-6), $"{name}: residual {actual[i]:E2} of null pair {i} above its bound {spectrum.ResidualNorms[i]:E2}");
            else
                Assert.True(Math.Abs(actual[i] - spectrum.ResidualNorms[i]) <= 1e-13 * scale, $"{name}: residual {i} {spectrum.ResidualNorms[i]:E2} vs recomputed {actual[i]:E2}");
        }
    }

    private static Tensor MlpHessian(string activation, int[] sizes, int samples, long seed)
    {
        var (x, y) = TinyModels.Blobs(samples, sizes[0], sizes[^1], seed, spread: 0.8);
        var model = TinyModels.Mlp(sizes, activation, seed);
        TinyTraining.CrossEntropyAdam(model, x, y, 100, 0.02);
        model.eval();
        using var risk = new EmpiricalRisk(model, LossFunction.Parse("ce"), DataSource.FromTensors(x, y));
        using var op = CurvatureOperators.Create(risk, CurvatureKind.Hessian);
        return ExactHessian.Compute(op);
    }

    private static double[] Padded(double[] nonzero, int p) => [.. nonzero, .. new double[p - nonzero.Length]];

    private static double[] RandomValues(int count, long seed)
    {
        var random = new Random((int)seed);
        return [.. Enumerable.Range(0, count).Select(_ => (random.Next(2) == 0 ? -1 : 1) * Math.Pow(10, 4 * random.NextDouble() - 2))];
    }
}
