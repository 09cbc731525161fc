using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class StochasticLanczosQuadratureTests
{
    private sealed class RecordingProgress : IProgress<int>
    {
        public List<int> Reports { get; } = [];

        public void Report(int value) => Reports.Add(value);
    }

    private static double Trapezoid(double[] x, double[] y, Func<double, double> f)
    {
        double sum = 0;
        for (var i = 0; i + 1 < x.Length; i++)
            sum += 0.5 * (x[i + 1] - x[i]) * (y[i] * f(x[i]) + y[i + 1] * f(x[i + 1]));
        return sum;
    }

    [Fact]
    public void FewDistinctEigenvalues_NodesAreTheEigenvalues_AndWeightsApproachMultiplicitiesOverP()
    {
        using var scope = NewDisposeScope();
        double[] distinct = [-2, 0.5, 3];
        int[] multiplicity = [10, 20, 30];
        var eigenvalues = distinct.SelectMany((v, i) => Enumerable.Repeat(v, multiplicity[i])).ToArray();
        using var a = KnownSpectrum.Create(eigenvalues, seed: 1);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 40, Steps = 90, Seed = 2 });

        // Three distinct eigenvalues: the Krylov space is invariant after 3 steps and the 3-point rule is exact.
        Assert.Equal(40 * 3, density.OperatorApplications);
        foreach (var nodes in density.Nodes)
        {
            Assert.Equal(3, nodes.Length);
            for (var j = 0; j < 3; j++)
                Assert.Equal(distinct[j], nodes[j], 8);
        }
        for (var j = 0; j < 3; j++)
        {
            var perRun = density.Weights.Select(w => w[j]).ToArray();
            var mean = perRun.Average();
            var se = Math.Sqrt(perRun.Sum(w => (w - mean) * (w - mean)) / (perRun.Length - 1) / perRun.Length);
            var expected = multiplicity[j] / 60.0;
            Assert.True(Math.Abs(mean - expected) <= 4 * se, $"weight of {distinct[j]}: {mean:G4} ± {se:G2}, expected {expected:G4}");
        }
    }

    [Fact]
    public void Moments_MatchExactTraceOverP_AndTraceOfSquareOverP_WithinErrorBars()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = KnownSpectrum.OutliersPlusBulk(120, [12, 7, -3], bulkScale: 1.5, seed: 3);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 4);
        var (trace, traceOfSquare) = ExactTraces.FromMatrix(a.Matrix);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 20, Steps = 30, Seed = 5 });
        Assert.True(Math.Abs(density.Moment(1) - trace / 120) <= 4 * density.MomentStandardError(1),
            $"first moment {density.Moment(1)} ± {density.MomentStandardError(1)} vs tr/p {trace / 120}");
        Assert.True(Math.Abs(density.Moment(2) - traceOfSquare / 120) <= 4 * density.MomentStandardError(2),
            $"second moment {density.Moment(2)} ± {density.MomentStandardError(2)} vs tr(A²)/p {traceOfSquare / 120}");
        Assert.Equal(1.0, density.Moment(0), 12);
    }

    [Fact]
    public void Moments_OfTinyModelHessians_MatchExactTraces_WithinErrorBars()
    {
        using var scope = NewDisposeScope();
        foreach (var (name, hessian) in SpectrumReference.TinyModelHessians())
        {
            using var op = new DenseOperator(hessian);
            var p = (double)hessian.shape[0];
            var (trace, traceOfSquare) = ExactTraces.FromMatrix(hessian);
            var density = StochasticLanczosQuadrature.Estimate(op, new SpectralDensityOptions { Runs = 20, Steps = 20, Seed = 6 });
            Assert.True(Math.Abs(density.Moment(1) - trace / p) <= 4 * density.MomentStandardError(1), $"{name}: first moment");
            Assert.True(Math.Abs(density.Moment(2) - traceOfSquare / p) <= 4 * density.MomentStandardError(2), $"{name}: second moment");
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(10)]
    [InlineData(300)]
    [InlineData(30_000)]
    public void Density_WithDefaultOptions_IntegratesToOne(double range)
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(150, -0.2 * range, 0.8 * range, seed: 7);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 8);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator);
        Assert.Equal(10_000, density.Grid.Length);
        var integral = Trapezoid(density.Grid, density.Density, _ => 1);
        Assert.True(Math.Abs(integral - 1) <= 1e-3, $"∫φ = {integral}");
        Assert.Equal(integral, density.Integral(), 12);
    }

    [Fact]
    public void DensityMoments_EqualNodeMoments_PlusKernelVarianceForTheSecond()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(100, -1, 4, seed: 9);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 10);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Seed = 11 });
        // Smoothing by N(0, σ²) keeps the mean and adds σ² to the second moment.
        Assert.Equal(density.Moment(1), Trapezoid(density.Grid, density.Density, t => t), 7);
        Assert.Equal(density.Moment(2) + density.Variance, Trapezoid(density.Grid, density.Density, t => t * t), 6);
        Assert.Equal(density.Moment(2) + density.Variance, density.DensityMoment(2), 6);
    }

    [Fact]
    public void Defaults_AreThreeRunsOfNinetySteps_OnTenThousandPoints_WithLiteratureKernelVariance()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(150, -3, 20, seed: 12);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 13);
        var before = a.Operator.ApplicationCount;
        var density = StochasticLanczosQuadrature.Estimate(a.Operator);
        Assert.Equal(3, density.Runs);
        Assert.Equal(90, density.Steps);
        Assert.Equal(270, density.OperatorApplications);
        Assert.Equal(270, a.Operator.ApplicationCount - before);
        var lowest = density.Nodes.Min(n => n.Min());
        var highest = density.Nodes.Max(n => n.Max());
        Assert.Equal(1e-5 * Math.Max(1, highest - lowest), density.Variance, 15);
        var sigma = Math.Sqrt(density.Variance);
        Assert.Equal(lowest - 6 * sigma, density.Grid[0], 10);
        Assert.Equal(highest + 6 * sigma, density.Grid[^1], 10);
    }

    [Fact]
    public void ExtremeNodes_ConvergeToExtremeEigenvalues()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = KnownSpectrum.OutliersPlusBulk(150, [25, -6], bulkScale: 2, seed: 14);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 15);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 2, Seed = 16 });
        foreach (var nodes in density.Nodes)
        {
            Assert.Equal(eigenvalues.Max(), nodes[^1], 8);
            Assert.Equal(eigenvalues.Min(), nodes[0], 8);
        }
    }

    [Fact]
    public void Weights_AreNonNegative_AndSumToOneInEveryRun()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(80, -2, 2, seed: 17), seed: 18);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 4, Steps = 25, Seed = 19 });
        foreach (var weights in density.Weights)
        {
            Assert.All(weights, w => Assert.True(w >= 0));
            Assert.Equal(1.0, weights.Sum(), 12);
        }
    }

    [Fact]
    public void StepsBeyondTheDimension_AreClampedToP()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(12, -1, 1, seed: 20), seed: 21);
        var density = StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 2, Steps = 90, GridPoints = 100 });
        Assert.Equal(12, density.Steps);
        Assert.All(density.Nodes, n => Assert.True(n.Length <= 12));
    }

    [Fact]
    public void Estimate_WithTheSameSeed_IsBitwiseReproducible()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(60, -1, 3, seed: 22), seed: 23);
        var options = new SpectralDensityOptions { Runs = 2, Steps = 20, GridPoints = 500, Seed = 24 };
        var first = StochasticLanczosQuadrature.Estimate(a.Operator, options);
        var second = StochasticLanczosQuadrature.Estimate(a.Operator, options);
        Assert.Equal(first.Nodes, second.Nodes);
        Assert.Equal(first.Weights, second.Weights);
        Assert.Equal(first.Density, second.Density);
        var other = StochasticLanczosQuadrature.Estimate(a.Operator, options with { Seed = 25 });
        Assert.NotEqual(first.Weights[0], other.Weights[0]);
    }

    [Fact]
    public void Estimate_ReportsProgressPerRun_AndHonoursCancellation()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(40, -1, 1, seed: 26), seed: 27);
        var progress = new RecordingProgress();
        StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 3, Steps = 10, GridPoints = 100 }, progress);
        Assert.Equal([1, 2, 3], progress.Reports);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => StochasticLanczosQuadrature.Estimate(a.Operator, cancellationToken: cancelled.Token));
    }

    [Fact]
    public void Estimate_OfNonSymmetricOperator_IsRefused()
    {
        using var scope = NewDisposeScope();
        using var op = new DenseOperator(tensor(new double[,] { { 1, 2 }, { 0, 1 } }), symmetric: false);
        var ex = Assert.Throws<ArgumentException>(() => StochasticLanczosQuadrature.Estimate(op));
        Assert.Contains("symmetric", ex.Message);
    }

    [Theory]
    [InlineData(0, 90, 10_000)]
    [InlineData(3, 0, 10_000)]
    [InlineData(3, 90, 1)]
    public void InvalidOptions_AreRefused(int runs, int steps, int gridPoints)
    {
        using var scope = NewDisposeScope();
        using var d = KnownSpectrum.Diagonal(1, 2, 3);
        var ex = Assert.ThrowsAny<ArgumentException>(() =>
            StochasticLanczosQuadrature.Estimate(d, new SpectralDensityOptions { Runs = runs, Steps = steps, GridPoints = gridPoints }));
        Assert.Contains("but was", ex.Message);
    }
}
