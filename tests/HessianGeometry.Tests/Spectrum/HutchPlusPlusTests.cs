using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class HutchPlusPlusTests
{
    /// <summary>10 large eigenvalues over a bulk of small ones: the case Hutch++ is built for.</summary>
    private static double[] LowRankPlusNoise(int p, int seed)
    {
        var bulk = SpectrumReference.Uniform(p - 10, 0, 0.5, seed);
        return Enumerable.Range(0, 10).Select(i => 100.0 - 5 * i).Concat(bulk).ToArray();
    }

    [Fact]
    public void Trace_OfLowRankMatrix_IsExact_WhenTheSketchCoversTheRank()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = new double[80];
        new[] { 9.0, -4.0, 2.5, 1.0, -0.5 }.CopyTo(eigenvalues, 0);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 1);
        var e = HutchPlusPlus.Trace(a.Operator, operatorApplications: 30, seed: 2);
        Assert.Equal(eigenvalues.Sum(), e.Value, 10);
        Assert.True(e.StandardError <= 1e-10, $"SE {e.StandardError}");
    }

    [Fact]
    public void Trace_WithBudgetOfThreeTimesP_IsExact()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(20, -3, 3, seed: 3);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 4);
        var e = HutchPlusPlus.Trace(a.Operator, operatorApplications: 66, seed: 5);
        Assert.Equal(eigenvalues.Sum(), e.Value, 10);
    }

    [Fact]
    public void Trace_AtEqualBudget_HasLowerErrorThanHutchinson_OnLowRankPlusNoise()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = LowRankPlusNoise(200, seed: 6);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 7);
        var truth = eigenvalues.Sum();
        double hutchinsonError = 0, hutchPlusPlusError = 0;
        const int seeds = 30, budget = 60;
        for (var seed = 0; seed < seeds; seed++)
        {
            var plain = Hutchinson.Trace(a.Operator, new TraceOptions { RelativeStandardError = 0, MinProbes = budget, MaxProbes = budget, Seed = seed });
            var plusPlus = HutchPlusPlus.Trace(a.Operator, budget, seed);
            Assert.Equal(plain.OperatorApplications, plusPlus.OperatorApplications);
            hutchinsonError += Math.Abs(plain.Value - truth) / seeds;
            hutchPlusPlusError += Math.Abs(plusPlus.Value - truth) / seeds;
        }
        Assert.True(hutchPlusPlusError < 0.25 * hutchinsonError, $"mean |error|: Hutch++ {hutchPlusPlusError:G3}, Hutchinson {hutchinsonError:G3}");
    }

    [Fact]
    public void Trace_ErrorBarFromThirtyResidualProbes_CoversTruth_InAtLeast90PercentOf200Seeds()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = LowRankPlusNoise(100, seed: 8);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 9);
        var truth = eigenvalues.Sum();
        var covered = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var e = HutchPlusPlus.Trace(a.Operator, 90, seed);
            covered += Math.Abs(e.Value - truth) <= 2 * e.StandardError ? 1 : 0;
        }
        Assert.True(covered >= 180, $"±2·SE covered the truth in {covered}/200 runs");
    }

    [Fact]
    public void Trace_SpendsExactlyTheBudget_AndReportsTheResidualProbeCount()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(50, -1, 1, seed: 10), seed: 11);
        var before = a.Operator.ApplicationCount;
        var e = HutchPlusPlus.Trace(a.Operator, 47, seed: 12);
        Assert.Equal(47, a.Operator.ApplicationCount - before);
        Assert.Equal(47, e.OperatorApplications);
        Assert.Equal(47 - 2 * 15, e.Probes);
        Assert.Equal("Hutch++", e.Method);
    }

    [Fact]
    public void Trace_WithTheSameSeed_IsBitwiseReproducible()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(50, -1, 1, seed: 13), seed: 14);
        Assert.Equal(HutchPlusPlus.Trace(a.Operator, 30, seed: 15), HutchPlusPlus.Trace(a.Operator, 30, seed: 15));
    }

    [Fact]
    public void Trace_WithTooSmallABudget_IsRefused()
    {
        using var scope = NewDisposeScope();
        using var d = KnownSpectrum.Diagonal(1, 2, 3);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => HutchPlusPlus.Trace(d, 5));
        Assert.Contains("but was 5", ex.Message);
    }
}
