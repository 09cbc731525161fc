using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class WolkowiczStyanTests
{
    private static void AssertHold(WolkowiczStyanBounds bounds, double[] eigenvalues, string what)
    {
        var max = eigenvalues.Max();
        var min = eigenvalues.Min();
        var tol = 1e-10 * Math.Max(1, eigenvalues.Max(Math.Abs));
        Assert.True(bounds.LambdaMaxLower - tol <= max && max <= bounds.LambdaMaxUpper + tol,
            $"{what}: λ_max = {max} outside [{bounds.LambdaMaxLower}, {bounds.LambdaMaxUpper}]");
        Assert.True(bounds.LambdaMinLower - tol <= min && min <= bounds.LambdaMinUpper + tol,
            $"{what}: λ_min = {min} outside [{bounds.LambdaMinLower}, {bounds.LambdaMinUpper}]");
    }

    [Fact]
    public void TwoByTwo_EveryBoundIsAnEquality()
    {
        using var scope = NewDisposeScope();
        // tr = 1, det = −3: λ = (1 ± √13)/2.
        var bounds = WolkowiczStyan.FromMatrix(tensor(new double[,] { { 2, 1 }, { 1, -1 } }));
        var max = (1 + Math.Sqrt(13)) / 2;
        var min = (1 - Math.Sqrt(13)) / 2;
        Assert.Equal(max, bounds.LambdaMaxLower, 12);
        Assert.Equal(max, bounds.LambdaMaxUpper, 12);
        Assert.Equal(min, bounds.LambdaMinLower, 12);
        Assert.Equal(min, bounds.LambdaMinUpper, 12);
        Assert.False(bounds.FromEstimates);
    }

    [Fact]
    public void WhenTheOtherEigenvaluesAreEqual_TheFarBoundIsAttained()
    {
        // diag(5,1,1,1,1): m = 1.8, s = 1.6, m + s·√4 = 5 = λ_max.
        var top = WolkowiczStyan.FromTraces(5, trace: 9, traceOfSquare: 29);
        Assert.Equal(1.8, top.Mean, 14);
        Assert.Equal(1.6, top.StandardDeviation, 14);
        Assert.Equal(5, top.LambdaMaxUpper, 12);
        // ... and the near bound on λ_min, m − s/√4 = 1, is attained by the four equal eigenvalues.
        Assert.Equal(1, top.LambdaMinUpper, 12);

        // The mirror image: diag(−3,1,1,1,1) attains the far bound on λ_min.
        var bottom = WolkowiczStyan.FromTraces(5, trace: 1, traceOfSquare: 13);
        Assert.Equal(-3, bottom.LambdaMinLower, 12);
    }

    [Fact]
    public void WhenTheOtherEigenvaluesAreEqual_TheFarBoundIsAttained_ForARotatedMatrix()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create([7, 2, 2, 2, 2, 2, 2, 2], seed: 1);
        Assert.Equal(7, WolkowiczStyan.FromMatrix(a.Matrix).LambdaMaxUpper, 10);
    }

    public static TheoryData<string, double[]> Spectra => new()
    {
        { "uniform, mixed signs", SpectrumReference.Uniform(60, -2, 5, seed: 2) },
        { "outliers over a bulk", KnownSpectrum.OutliersPlusBulk(80, [30, 12, -4], bulkScale: 1, seed: 3) },
        { "all negative", SpectrumReference.Uniform(40, -9, -0.1, seed: 4) },
        { "all equal", Enumerable.Repeat(2.5, 20).ToArray() },
        { "two values", Enumerable.Repeat(-1.0, 10).Concat(Enumerable.Repeat(3.0, 25)).ToArray() },
        { "rank one", new double[] { 4 }.Concat(new double[29]).ToArray() },
    };

    [Theory]
    [MemberData(nameof(Spectra))]
    public void Bounds_HoldOnKnownSpectra(string name, double[] eigenvalues)
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(eigenvalues, seed: 5);
        AssertHold(WolkowiczStyan.FromMatrix(a.Matrix), eigenvalues, name);
        AssertHold(WolkowiczStyan.FromTraces(eigenvalues.Length, eigenvalues.Sum(), eigenvalues.Sum(l => l * l)), eigenvalues, name + " (traces)");
    }

    [Fact]
    public void Bounds_HoldOnEveryTinyModelHessian()
    {
        using var scope = NewDisposeScope();
        foreach (var (name, hessian) in SpectrumReference.TinyModelHessians())
            AssertHold(WolkowiczStyan.FromMatrix(hessian), SpectrumReference.Eigenvalues(hessian), name);
    }

    [Fact]
    public void FromEstimates_WithZeroCoverage_EqualsFromTracesAtTheEstimates()
    {
        var trace = new TraceEstimate("Hutchinson", 12, 0.4, 50, 50, true);
        var square = new TraceEstimate("Hutchinson tr(A²)", 90, 3, 50, 50, true);
        var estimated = WolkowiczStyan.FromEstimates(10, trace, square, coverage: 0);
        var exact = WolkowiczStyan.FromTraces(10, 12, 90);
        Assert.Equal(exact with { FromEstimates = true }, estimated);
    }

    [Fact]
    public void FromEstimates_WidenEveryBoundOutward()
    {
        var trace = new TraceEstimate("Hutchinson", 12, 0.4, 50, 50, true);
        var square = new TraceEstimate("Hutchinson tr(A²)", 90, 3, 50, 50, true);
        var central = WolkowiczStyan.FromTraces(10, 12, 90);
        var widened = WolkowiczStyan.FromEstimates(10, trace, square);
        Assert.True(widened.FromEstimates);
        Assert.Equal(2.0, widened.Coverage);
        Assert.True(widened.LambdaMaxLower < central.LambdaMaxLower);
        Assert.True(widened.LambdaMaxUpper > central.LambdaMaxUpper);
        Assert.True(widened.LambdaMinLower < central.LambdaMinLower);
        Assert.True(widened.LambdaMinUpper > central.LambdaMinUpper);
        Assert.Equal(central.Mean, widened.Mean, 14);
        Assert.Equal(central.StandardDeviation, widened.StandardDeviation, 14);
    }

    [Fact]
    public void FromEstimates_CoverAnAttainedBound_InAtLeast90PercentOfSeeds()
    {
        using var scope = NewDisposeScope();
        // λ_max = m + s√(p−1) exactly, so the widened upper bound holds only when the error bars are honest.
        var eigenvalues = new double[] { 6 }.Concat(Enumerable.Repeat(1.0, 39)).ToArray();
        using var a = KnownSpectrum.Create(eigenvalues, seed: 6);
        var covered = 0;
        for (var seed = 0; seed < 100; seed++)
        {
            var (trace, square) = Hutchinson.TraceAndTraceOfSquare(a.Operator,
                new TraceOptions { RelativeStandardError = 0, MinProbes = 30, MaxProbes = 30, Seed = seed });
            var bounds = WolkowiczStyan.FromEstimates(40, trace, square);
            covered += bounds.LambdaMaxUpper >= 6 && bounds.LambdaMaxLower <= 6 ? 1 : 0;
        }
        Assert.True(covered >= 90, $"the widened bounds held in {covered}/100 runs");
    }

    [Fact]
    public void FromEstimates_WithInconsistentEstimates_ClampTheSpreadAtZero()
    {
        // Noisy estimates can give tr(A²)/p < m²; the spread is then 0, not NaN.
        var trace = new TraceEstimate("Hutchinson", 10, 1, 20, 20, false);
        var square = new TraceEstimate("Hutchinson tr(A²)", 9, 1, 20, 20, false);
        var bounds = WolkowiczStyan.FromEstimates(10, trace, square);
        Assert.Equal(0, bounds.StandardDeviation);
        Assert.True(double.IsFinite(bounds.LambdaMaxUpper) && double.IsFinite(bounds.LambdaMinLower));
    }

    [Fact]
    public void InvalidInputs_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WolkowiczStyan.FromTraces(1, 2, 4));
        var ex = Assert.Throws<ArgumentException>(() => WolkowiczStyan.FromTraces(4, trace: 8, traceOfSquare: 10));
        Assert.Contains("trace²/p", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => WolkowiczStyan.FromTraces(4, double.NaN, 10));
    }
}
