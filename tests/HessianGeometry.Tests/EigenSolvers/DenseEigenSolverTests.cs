using HessianGeometry.EigenSolvers;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

/// <summary>The exact solver against spectra known by construction, and its one-decomposition reuse.</summary>
public sealed class DenseEigenSolverTests
{
    private static readonly double[] Spectrum = [-3, -1.5, -0.25, 0.1, 0.5, 1, 2, 4, 7.5, 12];

    [Theory]
    [InlineData(SpectrumEnd.LargestAlgebraic, 3)]
    [InlineData(SpectrumEnd.SmallestAlgebraic, 2)]
    [InlineData(SpectrumEnd.LargestMagnitude, 4)]
    [InlineData(SpectrumEnd.LargestAlgebraic, 10)]
    public void Solve_ReturnsTheKnownPairs_InTheAskedOrder_WithTheCommonEvidence(SpectrumEnd which, int k)
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(Spectrum, seed: 11);
        using var result = EigenSolverFactory.Create("exact").Solve(spectrum.Operator, new EigenSolverOptions { Count = k, Which = which, Tolerance = 1e-10 });
        var expected = EigenSolverRun.Select(Spectrum, which, k).Select(i => Spectrum[i]).ToArray();
        Assert.Equal("exact", result.Solver);
        Assert.Equal(k, result.Eigenvalues.Length);
        for (var i = 0; i < k; i++)
            Assert.Equal(expected[i], result.Eigenvalues[i], 1e-12 * 12);
        // Residuals recomputed from the dense matrix, not trusted from the solver.
        var v = result.Eigenvectors;
        var recomputed = (spectrum.Matrix.mm(v) - v * tensor(result.Eigenvalues).unsqueeze(0)).norm(0).data<double>().ToArray();
        for (var i = 0; i < k; i++)
            Assert.Equal(recomputed[i], result.ResidualNorms[i], 1e-12);
        Assert.All(result.RelativeResiduals, r => Assert.True(r <= 1e-10, $"relative residual {r:G3}"));
        Assert.True(result.Converged);
        Assert.Equal(1, result.Iterations);
        Assert.Equal(Spectrum.Length, result.OperatorApplications);
        Assert.Equal([Spectrum.Length, k], result.Eigenvectors.shape);
    }

    [Fact]
    public void Solve_AgreesWithLanczos_OnTheTopPairs()
    {
        using var scope = NewDisposeScope();
        var values = KnownSpectrum.OutliersPlusBulk(60, [40, 25, 10], 1, seed: 3);
        using var spectrum = KnownSpectrum.Create(values, seed: 4);
        var options = new EigenSolverOptions { Count = 3, Tolerance = 1e-9, Seed = 2 };
        using var exact = new DenseEigenSolver().Solve(spectrum.Operator, options);
        using var lanczos = new Lanczos().Solve(spectrum.Operator, options);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(lanczos.Eigenvalues[i], exact.Eigenvalues[i], 1e-7);
            // Same sign convention, so the vectors agree column by column.
            var gap = (exact.Eigenvectors[.., i] - lanczos.Eigenvectors[.., i]).abs().max().item<double>();
            Assert.True(gap < 1e-6, $"eigenvector {i} differs by {gap:G3}");
        }
    }

    [Fact]
    public void Decompose_OnceServesBothEnds_WithoutFurtherProducts()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(Spectrum, seed: 5);
        using var dense = new DenseEigenSolver().Decompose(spectrum.Operator);
        var before = spectrum.Operator.ApplicationCount;
        using var top = dense.Pairs(SpectrumEnd.LargestAlgebraic, 2, 1e-8);
        using var bottom = dense.Pairs(SpectrumEnd.SmallestAlgebraic, 2, 1e-8);
        using var all = dense.EigenvectorsDescending();
        Assert.Equal(before, spectrum.Operator.ApplicationCount);
        Assert.Equal([12, 7.5], top.Eigenvalues, (a, b) => Math.Abs(a - b) < 1e-10);
        Assert.Equal([-3, -1.5], bottom.Eigenvalues, (a, b) => Math.Abs(a - b) < 1e-10);
        Assert.Equal([10L, 10L], all.shape);
        var firstColumnGap = (all[.., 0] - top.Eigenvectors[.., 0]).abs().max().item<double>();
        Assert.True(firstColumnGap < 1e-12, $"the first descending eigenvector should be the top pair's ({firstColumnGap:G3})");
    }

    [Fact]
    public void Solve_OverTheMemoryBudget_IsRefusedBeforeAnyProduct()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(Spectrum, seed: 6);
        var error = Assert.Throws<InsufficientMemoryException>(() => new DenseEigenSolver(memoryBudgetBytes: 100).Solve(spectrum.Operator, new EigenSolverOptions()));
        Assert.Contains("budget", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, spectrum.Operator.ApplicationCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void Solve_WithACountOutside1ToP_Throws(int count)
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(Spectrum, seed: 7);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DenseEigenSolver().Solve(spectrum.Operator, new EigenSolverOptions { Count = count }));
    }

    [Fact]
    public void Factory_KnowsExact_ByNameAndKind()
    {
        Assert.IsType<DenseEigenSolver>(EigenSolverFactory.Create(" Exact "));
        Assert.IsType<DenseEigenSolver>(EigenSolverFactory.Create(EigenSolverKind.Exact));
        foreach (var kind in Enum.GetValues<EigenSolverKind>())
            Assert.Equal(EigenSolverFactory.NameOf(kind), EigenSolverFactory.Create(kind).Name);
        var error = Assert.Throws<ArgumentException>(() => EigenSolverFactory.Create("arnoldi"));
        Assert.Contains("exact", error.Message, StringComparison.Ordinal);
    }
}
