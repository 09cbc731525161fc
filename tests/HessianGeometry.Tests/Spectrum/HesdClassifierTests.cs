using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class HesdClassifierTests
{
    /// <summary>A quadrature rule given by hand (grid and density are not used by the classifier).</summary>
    private static SpectralDensity Rule(double[][] nodes, double[][] weights) =>
        new(nodes, weights, [0.0, 1.0], [0.0, 0.0], nodes.Length, nodes.Max(n => n.Length), 1e-5, 0);

    /// <summary>SLQ on Q diag(λ) Qᵀ, classified with the exact extreme eigenvalues.</summary>
    private static HesdClassification ClassifySpectrum(double[] eigenvalues, HesdOptions? options = null)
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(eigenvalues, seed: 1);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Seed = 2 });
        return HesdClassifier.Classify(eigenvalues.Max(), eigenvalues.Min(), density, options);
    }

    [Fact]
    public void Ct_Kh05_AndNearZeroMass_FollowTheirDefinitions()
    {
        var density = Rule([[-2, 0.0005, 3], [-1, 4]], [[0.2, 0.5, 0.3], [0.5, 0.5]]);
        var c = HesdClassifier.Classify(lambdaMax: 4, lambdaMin: -2, density);
        // Two runs: pooled weights are τ/2.
        var negative = Math.Sqrt(2 * 0.1) + Math.Sqrt(1 * 0.25);
        var positive = Math.Sqrt(0.0005 * 0.25) + Math.Sqrt(3 * 0.15) + Math.Sqrt(4 * 0.25);
        Assert.Equal(-0.5, c.Ct, 15);
        Assert.Equal(negative / positive, c.Kh05, 14);
        Assert.Equal(0.25, c.NearZeroMass, 15);
        Assert.Equal(HesdType.MainlyPositive, c.Type);
    }

    [Fact]
    public void MostlyPositiveSpectrum_IsMainlyPositive()
    {
        var eigenvalues = new double[] { 20, 10, 6 }.Concat(SpectrumReference.Uniform(97, -0.2, 1.5, seed: 3)).ToArray();
        var c = ClassifySpectrum(eigenvalues);
        Assert.Equal(HesdType.MainlyPositive, c.Type);
        Assert.Equal(eigenvalues.Min() / 20, c.Ct, 12);
        Assert.True(c.Kh05 < 1);
    }

    [Fact]
    public void MirroredSpectrum_IsMainlyNegative()
    {
        var eigenvalues = new double[] { -20, -10, -6 }.Concat(SpectrumReference.Uniform(97, -1.5, 0.2, seed: 3)).ToArray();
        var c = ClassifySpectrum(eigenvalues);
        Assert.Equal(HesdType.MainlyNegative, c.Type);
        Assert.True(c.Ct < -0.6);
        Assert.True(c.Kh05 > 1);
    }

    [Fact]
    public void CtAtMinusPointSeven_IsMainlyNegative_UnlessTheThresholdIsLowered()
    {
        var eigenvalues = new double[] { 1, -0.7 }.Concat(SpectrumReference.Uniform(98, 0.1, 0.9, seed: 4)).ToArray();
        var c = ClassifySpectrum(eigenvalues);
        Assert.Equal(-0.7, c.Ct, 12);
        Assert.Equal(HesdType.MainlyNegative, c.Type);
        Assert.Equal(HesdType.MainlyPositive, ClassifySpectrum(eigenvalues, new HesdOptions { CtThreshold = -0.8 }).Type);
    }

    [Fact]
    public void NegativeMassDominatingKh05_IsMainlyNegative_ThoughCtIsAboveThreshold()
    {
        // One large positive eigenvalue, most of the mass negative: C_t = −0.5 passes, K_h05 does not.
        var eigenvalues = new double[] { 10, -5 }.Concat(SpectrumReference.Uniform(98, -4, -1, seed: 5)).ToArray();
        var c = ClassifySpectrum(eigenvalues);
        Assert.Equal(-0.5, c.Ct, 12);
        Assert.True(c.Kh05 > 1, $"K_h05 = {c.Kh05}");
        Assert.Equal(HesdType.MainlyNegative, c.Type);
        Assert.Equal(HesdType.MainlyPositive, ClassifySpectrum(eigenvalues, new HesdOptions { Kh05Threshold = 100 }).Type);
    }

    [Fact]
    public void SpectrumCollapsedOntoZero_IsQuasiSingular()
    {
        var eigenvalues = SpectrumReference.Uniform(80, -1e-5, 1e-4, seed: 6);
        var c = ClassifySpectrum(eigenvalues);
        Assert.Equal(HesdType.QuasiSingular, c.Type);
        Assert.Equal(1.0, c.NearZeroMass, 12);
        Assert.True(c.Ct > -0.6);
    }

    [Fact]
    public void QuasiSingularMassAndTolerance_AreConfigurable()
    {
        var density = Rule([[0, 0.002, 5]], [[0.95, 0.02, 0.03]]);
        Assert.Equal(HesdType.MainlyPositive, HesdClassifier.Classify(5, 0, density).Type);
        Assert.Equal(HesdType.QuasiSingular, HesdClassifier.Classify(5, 0, density, new HesdOptions { QuasiSingularMass = 0.95 }).Type);
        var wider = HesdClassifier.Classify(5, 0, density, new HesdOptions { NearZeroTolerance = 0.01, QuasiSingularMass = 0.97 });
        Assert.Equal(0.97, wider.NearZeroMass, 14);
        Assert.Equal(HesdType.QuasiSingular, wider.Type);
    }

    [Fact]
    public void NoPositiveCurvature_GivesCtOfMinusInfinity_AndMainlyNegative()
    {
        var density = Rule([[-3, -1]], [[0.5, 0.5]]);
        var c = HesdClassifier.Classify(-1, -3, density);
        Assert.Equal(double.NegativeInfinity, c.Ct);
        Assert.Equal(double.PositiveInfinity, c.Kh05);
        Assert.Equal(HesdType.MainlyNegative, c.Type);
    }

    [Fact]
    public void InvalidInputs_AreRefused()
    {
        var density = Rule([[1, 2]], [[0.5, 0.5]]);
        var ex = Assert.Throws<ArgumentException>(() => HesdClassifier.Classify(1, 2, density));
        Assert.Contains("exceeds", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => HesdClassifier.Classify(double.NaN, 1, density));
        Assert.Throws<ArgumentOutOfRangeException>(() => HesdClassifier.Classify(2, 1, density, new HesdOptions { QuasiSingularMass = 0 }));
    }
}
