using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

public sealed class LobpcgTests
{
    /// <summary>
    /// A diagonally dominant matrix with diagonal spread over [1, 1000]: the Jacobi preconditioner T = diag(1/a_ii)
    /// must cut the HVPs for the smallest eigenvalues at least in half, and both runs must match the dense solution.
    /// </summary>
    [Fact]
    public void JacobiPreconditioner_SmallestEnd_NeedsFewerApplications()
    {
        using var scope = NewDisposeScope();
        var p = 150;
        var d = linspace(1, 1000, p, dtype: ScalarType.Float64).pow(1.5) / Math.Pow(1000, 0.5);
        var g = randn(p, p, dtype: ScalarType.Float64, generator: new Generator(1)) * 0.05;
        var a = diag(d) + (g + g.T) / 2;
        using var op = new DenseOperator(a);
        var inverseDiagonal = a.diagonal().reciprocal().unsqueeze(1);
        var options = new EigenSolverOptions { Count = 3, Which = SpectrumEnd.SmallestAlgebraic, Tolerance = 1e-8, Seed = 2, MaxOperatorApplications = 20_000 };
        using var plain = new Lobpcg().Solve(op, options);
        using var preconditioned = new Lobpcg().Solve(op, options with { Preconditioner = r => r * inverseDiagonal });
        var expected = DenseEigen.Expected(DenseEigen.Eigenvalues(a), SpectrumEnd.SmallestAlgebraic, 3);
        DenseEigen.AssertMatches(plain, a, expected, 1e-7, 1e-7);
        DenseEigen.AssertMatches(preconditioned, a, expected, 1e-7, 1e-7);
        Assert.True(2 * preconditioned.OperatorApplications <= plain.OperatorApplications,
            $"preconditioned {preconditioned.OperatorApplications} vs plain {plain.OperatorApplications} applications.");
    }

    /// <summary>p = 12 and a block of 5: [X, R, P] has 15 columns in 12 dimensions, so the orthonormalisation must drop directions.</summary>
    [Fact]
    public void BasisLargerThanDimension_DropsDependentDirections_AndConverges()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create([9, 7, 5, 3, 1, -1, -2, -3, -4, -5, -6, -7], seed: 3);
        using var result = new Lobpcg().Solve(spectrum.Operator, new EigenSolverOptions { Count = 5, Tolerance = 1e-10, Seed = 4 });
        DenseEigen.AssertMatches(result, spectrum.Matrix, [9, 7, 5, 3, 1], 1e-9, 1e-9);
    }

    /// <summary>One pair converges almost at once (λ_1 = 100 far above the rest); soft locking stops applying the operator to it.</summary>
    [Fact]
    public void SoftLocking_ConvergedColumnsCostNoApplications()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(120, [100, 3, 2.9], 1.0, seed: 5), seed: 6);
        using var result = new Lobpcg().Solve(spectrum.Operator, new EigenSolverOptions { Count = 3, Tolerance = 1e-8, Seed = 7, MaxOperatorApplications = 20_000 });
        DenseEigen.AssertMatches(result, spectrum.Matrix, [100, 3, 2.9], 1e-7, 1e-7);
        Assert.True(result.OperatorApplications < 3 * (result.Iterations + 1),
            $"{result.OperatorApplications} applications over {result.Iterations} iterations: every column was applied every time.");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(40)]
    public void BlockSize_OutsideKToPMinusOne_Throws(int blockSize)
    {
        using var scope = NewDisposeScope();
        using var op = KnownSpectrum.Diagonal([.. Enumerable.Range(1, 40).Select(i => (double)i)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Lobpcg(blockSize).Solve(op, new EigenSolverOptions { Count = 3 }));
    }

    [Fact]
    public void GuardVectors_BlockLargerThanK_GiveTheSamePairs()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(100, [10, 8, 6.5, 6.3], 1.0, seed: 8), seed: 9);
        using var result = new Lobpcg(blockSize: 6).Solve(spectrum.Operator, new EigenSolverOptions { Count = 3, Tolerance = 1e-9, Seed = 10 });
        DenseEigen.AssertMatches(result, spectrum.Matrix, [10, 8, 6.5], 1e-8, 1e-8);
    }

    [Fact]
    public void PreconditionerReturningWrongShape_Throws()
    {
        using var scope = NewDisposeScope();
        using var op = KnownSpectrum.Diagonal([.. Enumerable.Range(1, 40).Select(i => (double)i)]);
        var error = Assert.Throws<ArgumentException>(() => new Lobpcg().Solve(op, new EigenSolverOptions { Count = 2, Preconditioner = r => r[.., 0] }));
        Assert.Contains("Preconditioner", error.Message, StringComparison.Ordinal);
    }
}
