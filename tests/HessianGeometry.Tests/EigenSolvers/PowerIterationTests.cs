using HessianGeometry.EigenSolvers;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

public sealed class PowerIterationTests
{
    /// <summary>
    /// With λ_1 = 1 and λ_2 = 0.99, after ~700 steps the λ_2 component of the iterate is c ≈ 1e-3: the Rayleigh quotient
    /// is off by ~0.01·c² ≈ 1e-8, but the residual is ~0.01·c ≈ 1e-5. A solver that stopped on the change of λ would
    /// report convergence; this one stops on the residual, so it must not.
    /// </summary>
    [Fact]
    public void NearlyDegenerateTop_EigenvalueSettlesFirst_ButConvergenceWaitsForTheResidual()
    {
        using var scope = NewDisposeScope();
        var values = new double[] { 1, 0.99 }.Concat(Enumerable.Range(0, 48).Select(i => 0.5 * i / 48)).ToArray();
        using var op = KnownSpectrum.Diagonal(values);
        var options = new EigenSolverOptions { Count = 1, Which = SpectrumEnd.LargestMagnitude, Tolerance = 1e-6, MaxOperatorApplications = 700, Seed = 1 };
        using var result = new PowerIteration().Solve(op, options);
        Assert.True(Math.Abs(result.Eigenvalues[0] - 1) <= 1e-6, $"λ = {result.Eigenvalues[0]:R} should already be within 1e-6 of 1.");
        Assert.False(result.Converged);
        var v = result.Eigenvectors[.., 0];
        var residual = (diag(op.Diagonal).mv(v) - v * result.Eigenvalues[0]).norm().item<double>();
        Assert.True(residual > 1e-6, $"the true residual {residual:G3} should be above the tolerance, as the result says.");
        Assert.Equal(residual, result.ResidualNorms[0], 1e-12);

        // With enough budget the same run does converge, on the residual.
        using var longer = new PowerIteration().Solve(op, options with { MaxOperatorApplications = 5000 });
        DenseEigen.AssertMatches(longer, diag(op.Diagonal), [1], 1e-6, 1e-6);
    }

    /// <summary>A fixed shift σ ≥ λ_max turns the smallest eigenvalues into the dominant ones of σI − A.</summary>
    [Fact]
    public void FixedShift_SmallestEnd_FindsNegativeEigenvalues()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create([-8, -6, -1, 0.5, 2, 3, 4, 5, 6, 7], seed: 2);
        using var result = new PowerIteration(shift: 8).Solve(spectrum.Operator, new EigenSolverOptions { Count = 2, Which = SpectrumEnd.SmallestAlgebraic, Tolerance = 1e-9, Seed = 3 });
        DenseEigen.AssertMatches(result, spectrum.Matrix, [-8, -6], 1e-8, 1e-8);
    }

    [Fact]
    public void NonFiniteShift_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PowerIteration(double.NaN));

    /// <summary>Pairs are found one after another, so a budget that ends early returns fewer than k pairs, all of them honest.</summary>
    [Fact]
    public void BudgetEndsEarly_ReturnsFewerPairs_WithTheirResiduals()
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(100, [10, 9.5, 9, 8.5], 1.0, seed: 4), seed: 5);
        using var result = new PowerIteration().Solve(spectrum.Operator, new EigenSolverOptions { Count = 4, Which = SpectrumEnd.LargestMagnitude, MaxOperatorApplications = 60, Seed = 6 });
        Assert.False(result.Converged);
        Assert.InRange(result.Eigenvalues.Length, 1, 3);
        Assert.Equal(4, result.Requested);
        Assert.Equal(result.Eigenvalues.Length, result.Eigenvectors.shape[1]);
        Assert.Equal(60, result.OperatorApplications);
    }
}
