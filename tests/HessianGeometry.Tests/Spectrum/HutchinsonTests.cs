using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class HutchinsonTests
{
    private static TraceOptions Fixed(int probes, long seed) =>
        new() { RelativeStandardError = 0, MinProbes = probes, MaxProbes = probes, Seed = seed };

    [Fact]
    public void Trace_ConvergesToExactTrace_AsProbesGrow()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(60, -1, 3, seed: 1);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 2);
        var truth = eigenvalues.Sum();

        var few = Hutchinson.Trace(a.Operator, Fixed(20, seed: 3));
        var many = Hutchinson.Trace(a.Operator, Fixed(2000, seed: 3));

        Assert.True(Math.Abs(many.Value - truth) <= 4 * many.StandardError, $"estimate {many.Value} vs truth {truth}, SE {many.StandardError}");
        // SE ∝ 1/√n: 100× the probes gives about a tenth of the error bar.
        Assert.InRange(many.StandardError / few.StandardError, 0.05, 0.2);
        Assert.True(Math.Abs(many.Value - truth) <= 0.02 * eigenvalues.Sum(Math.Abs), $"relative error too large: {many.Value} vs {truth}");
    }

    [Fact]
    public void Trace_ErrorBarCoversTruth_InAtLeast90PercentOf200Seeds()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(50, -2, 3, seed: 4);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 5);
        var truth = eigenvalues.Sum();
        int withinTwo = 0, withinOne = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var e = Hutchinson.Trace(a.Operator, Fixed(30, seed));
            var error = Math.Abs(e.Value - truth);
            withinTwo += error <= 2 * e.StandardError ? 1 : 0;
            withinOne += error <= e.StandardError ? 1 : 0;
        }
        Assert.True(withinTwo >= 180, $"±2·SE covered the truth in {withinTwo}/200 runs");
        // Nominal one-sigma coverage is about 68%; far above it would mean an inflated (useless) error bar.
        Assert.InRange(withinOne, 110, 160);
    }

    [Fact]
    public void TraceOfSquare_ConvergesToFrobeniusNorm_AndItsErrorBarCoversTruth()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(50, -2, 3, seed: 6);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 7);
        var truth = eigenvalues.Sum(l => l * l);
        var covered = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var e = Hutchinson.TraceOfSquare(a.Operator, Fixed(30, seed));
            covered += Math.Abs(e.Value - truth) <= 2 * e.StandardError ? 1 : 0;
        }
        Assert.True(covered >= 180, $"±2·SE covered tr(A²) in {covered}/200 runs");

        var many = Hutchinson.TraceOfSquare(a.Operator, Fixed(2000, seed: 8));
        Assert.True(Math.Abs(many.Value - truth) <= 4 * many.StandardError, $"estimate {many.Value} vs truth {truth}, SE {many.StandardError}");
        Assert.True(Math.Abs(many.Value - truth) <= 0.02 * truth);
    }

    [Fact]
    public void Trace_OfDiagonalMatrix_IsExact_AndStopsAtMinProbes()
    {
        using var scope = NewDisposeScope();
        // zᵀDz = Σ d_i for every Rademacher z: zero variance, so the target holds at the first check.
        using var d = KnownSpectrum.Diagonal(3, -1, 0.5, 7, -2.25);
        var e = Hutchinson.Trace(d, new TraceOptions { MinProbes = 10, BlockSize = 8 });
        Assert.Equal(7.25, e.Value, 12);
        Assert.Equal(0, e.StandardError);
        Assert.Equal(10, e.Probes);
        Assert.True(e.ReachedTarget);
    }

    [Fact]
    public void Trace_StopsAtTheFirstBlockWhereTheRelativeTargetHolds()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(80, -1, 2, seed: 9);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 10);
        var options = new TraceOptions { RelativeStandardError = 0.05, MaxProbes = 400, Seed = 11 };

        var e = Hutchinson.Trace(a.Operator, options);
        Assert.True(e.ReachedTarget);
        Assert.True(e.StandardError <= 0.05 * Math.Abs(e.Value), $"SE {e.StandardError} above 5% of {e.Value}");
        Assert.InRange(e.Probes, options.MinProbes + options.BlockSize, 399);

        // The same probes one block earlier had not reached the target.
        var earlier = Hutchinson.Trace(a.Operator, options with { MaxProbes = e.Probes - options.BlockSize });
        Assert.False(earlier.ReachedTarget);
        Assert.True(earlier.StandardError > 0.05 * Math.Abs(earlier.Value));
    }

    [Fact]
    public void Trace_WithZeroTraceIndefiniteSpectrum_SpendsTheBudget_AndReportsAnHonestErrorBar()
    {
        using var scope = NewDisposeScope();
        // Eigenvalues ±λ: tr = 0, so a relative target is unreachable and a "stopped changing" rule would be fooled.
        var half = SpectrumReference.Uniform(30, 0.5, 4, seed: 12);
        var eigenvalues = half.Concat(half.Select(v => -v)).ToArray();
        using var a = KnownSpectrum.Create(eigenvalues, seed: 13);
        var e = Hutchinson.Trace(a.Operator, new TraceOptions { MaxProbes = 64, Seed = 14 });
        Assert.False(e.ReachedTarget);
        Assert.Equal(64, e.Probes);
        Assert.True(Math.Abs(e.Value) <= 4 * e.StandardError, $"estimate {e.Value} with SE {e.StandardError} excludes the true trace 0");
    }

    [Fact]
    public void Trace_CountsOperatorApplications_LikeTheOperatorDoes()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(30, -1, 1, seed: 15), seed: 16);
        var before = a.Operator.ApplicationCount;
        var e = Hutchinson.Trace(a.Operator, new TraceOptions { RelativeStandardError = 1e-9, MaxProbes = 37, BlockSize = 5 });
        Assert.Equal(37, e.Probes);
        Assert.Equal(37, e.OperatorApplications);
        Assert.Equal(37, a.Operator.ApplicationCount - before);
    }

    [Fact]
    public void Trace_WithTheSameSeed_IsBitwiseReproducible_AndOtherSeedsDiffer()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(40, -1, 2, seed: 17), seed: 18);
        var first = Hutchinson.Trace(a.Operator, Fixed(24, seed: 5));
        var second = Hutchinson.Trace(a.Operator, Fixed(24, seed: 5));
        var other = Hutchinson.Trace(a.Operator, Fixed(24, seed: 6));
        Assert.Equal(first, second);
        Assert.NotEqual(first.Value, other.Value);
    }

    [Fact]
    public void TraceAndTraceOfSquare_ShareProbes_AndEqualTheSeparateEstimates()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(40, -1, 2, seed: 19), seed: 20);
        var options = Fixed(32, seed: 21);
        var before = a.Operator.ApplicationCount;
        var (trace, square) = Hutchinson.TraceAndTraceOfSquare(a.Operator, options);
        Assert.Equal(32, a.Operator.ApplicationCount - before);
        Assert.Equal(Hutchinson.Trace(a.Operator, options).Value, trace.Value);
        Assert.Equal(Hutchinson.TraceOfSquare(a.Operator, options).Value, square.Value);
        Assert.Equal(32, trace.OperatorApplications);
        Assert.Equal(32, square.OperatorApplications);
    }

    [Fact]
    public void Trace_OfTinyMlpHessian_MatchesTheExactHessianTrace()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(50, 3, 3, seed: 22);
        var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 23);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var (truth, truthOfSquare) = ExactTraces.FromMatrix(op.ToDense());
        var (trace, square) = Hutchinson.TraceAndTraceOfSquare(op, Fixed(200, seed: 24));
        Assert.True(Math.Abs(trace.Value - truth) <= 4 * trace.StandardError, $"tr(H): {trace.Value} ± {trace.StandardError} vs {truth}");
        Assert.True(Math.Abs(square.Value - truthOfSquare) <= 4 * square.StandardError, $"tr(H²): {square.Value} ± {square.StandardError} vs {truthOfSquare}");
    }

    [Fact]
    public void Trace_OfFloat32Operator_MatchesFloat64Estimate()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(40, -1, 2, seed: 25);
        using var a64 = KnownSpectrum.Create(eigenvalues, seed: 26);
        using var a32 = KnownSpectrum.Create(eigenvalues, seed: 26, dtype: ScalarType.Float32);
        var e64 = Hutchinson.Trace(a64.Operator, Fixed(16, seed: 27));
        var e32 = Hutchinson.Trace(a32.Operator, Fixed(16, seed: 27));
        Assert.Equal(e64.Value, e32.Value, 4);
    }

    [Fact]
    public void TraceOfSquare_OfNonSymmetricOperator_IsRefused()
    {
        using var scope = NewDisposeScope();
        using var op = new DenseOperator(tensor(new double[,] { { 1, 2 }, { 0, 1 } }), symmetric: false);
        var ex = Assert.Throws<ArgumentException>(() => Hutchinson.TraceOfSquare(op));
        Assert.Contains("symmetric", ex.Message);
    }

    [Theory]
    [InlineData(-0.1, 200, 10, 8)]
    [InlineData(0.01, 1, 1, 8)]
    [InlineData(0.01, 20, 30, 8)]
    [InlineData(0.01, 200, 10, 0)]
    public void InvalidOptions_AreRefused_WithAMessageThatSaysWhatToDo(double relative, int max, int min, int block)
    {
        using var scope = NewDisposeScope();
        using var d = KnownSpectrum.Diagonal(1, 2, 3);
        var options = new TraceOptions { RelativeStandardError = relative, MaxProbes = max, MinProbes = min, BlockSize = block };
        var ex = Assert.ThrowsAny<ArgumentException>(() => Hutchinson.Trace(d, options));
        Assert.Contains("but was", ex.Message);
    }
}
