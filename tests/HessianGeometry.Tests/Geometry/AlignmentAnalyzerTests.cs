using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HessianGeometry.Tests.Geometry;

public sealed class AlignmentAnalyzerTests
{
    [Theory]
    [InlineData(true, 1024)]
    [InlineData(false, 9)]
    public void Alignment_FromBatchedPasses_EqualsTheExplicitPerSampleLoop(bool fast, int batchSize)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(43, 3, 4, seed: 51);
        var model = TinyModels.Mlp([3, 8, 4], "tanh", seed: 52);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var eigenvectors = linalg.eigh(op.ToDense()).Item2.flip(1).narrow(1, 0, 6);
        var options = new AlignmentOptions { BatchSize = batchSize, UseFastPerSampleNorms = fast, UseFastDirectionalDerivatives = fast };
        using var result = AlignmentAnalyzer.Compute(op.Risk, x, eigenvectors, options);

        var expected = GeometryReferences.ExplicitAlignment(GeometryReferences.ExplicitGradients(model, x), eigenvectors);
        Assert.Equal(ScalarType.Float64, result.Alignment.dtype);
        Assert.True((result.Alignment - expected).abs().max().item<double>() <= 1e-5, "alignment differs from the per-sample loop by more than 1e-5");
        Assert.True(result.Alignment.abs().max().item<double>() <= 1.0, "|A| must not exceed 1");
        var abs = expected.abs();
        Assert.Equal(abs.mean([0L]).data<double>().ToArray(), result.MeanAbsAlignment, (a, b) => Math.Abs(a - b) <= 1e-5);
        Assert.Equal(abs.amax([0L]).data<double>().ToArray(), result.MaxAbsAlignment, (a, b) => Math.Abs(a - b) <= 1e-5);

        var outputs = model.call(x).detach();
        var sorted = outputs.sort(1, descending: true).Values;
        Assert.Equal(outputs.argmax(1).data<long>().ToArray(), result.PredictedClasses);
        Assert.Equal((sorted[.., 0] - sorted[.., 1]).data<double>().ToArray(), result.LogitGaps, (a, b) => Math.Abs(a - b) <= 1e-12);
    }

    [Fact]
    public void Alignment_IsZero_WhereTheReinforcingGradientVanishes()
    {
        using var scope = NewDisposeScope();
        // Logits ±2000: softmax is exactly one-hot in float64, so p − e_ŷ = 0 and g(x) = 0 exactly.
        var layer = Linear(1, 2, dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.weight!.copy_(tensor(new double[] { 1000, -1000 }).view(2, 1));
            layer.bias!.zero_();
        }
        var model = Sequential(("0", layer));
        model.eval();
        var x = tensor(new double[] { 2, -2, 1e-3 }).view(3, 1);
        var y = tensor(new long[] { 0, 1, 0 });
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        using var result = AlignmentAnalyzer.Compute(op.Risk, x, ones(op.Dimension, 1, dtype: ScalarType.Float64));
        Assert.Equal(0.0, result.GradientNorms[0]);
        Assert.Equal(0.0, result.GradientNorms[1]);
        Assert.Equal(0.0, result.Alignment[0, 0].item<double>());
        Assert.Equal(0.0, result.Alignment[1, 0].item<double>());
        Assert.True(result.GradientNorms[2] > 0);
        Assert.False(double.IsNaN(result.MeanAbsAlignment[0]));
    }

    [Fact]
    public void UseTrueLabels_TakesTheGradientAtTheOperatorsTargets()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 53);
        var model = TinyModels.Mlp([3, 5, 3], "tanh", seed: 54);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var v = GeometryReferences.RandomDirections(op.Dimension, 3, seed: 55);
        using var result = AlignmentAnalyzer.Compute(op.Risk, x, v, new AlignmentOptions { UseTrueLabels = true });
        var expected = GeometryReferences.ExplicitAlignment(GeometryReferences.ExplicitGradients(model, x, y), v);
        Assert.True((result.Alignment - expected).abs().max().item<double>() <= 1e-10);
        // The untrained model mislabels some inputs, so the reinforcing alignment must differ from the true-label one.
        using var reinforcing = AlignmentAnalyzer.Compute(op.Risk, x, v);
        Assert.True((reinforcing.Alignment - expected).abs().max().item<double>() > 1e-3);
    }

    [Fact]
    public void UseTrueLabels_WithInputsOtherThanTheOperatorsData_IsRefused()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(12, 3, 3, seed: 56);
        var model = TinyModels.Mlp([3, 4, 3], "tanh", seed: 57);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var v = GeometryReferences.RandomDirections(op.Dimension, 1, seed: 58);
        var ex = Assert.Throws<ArgumentException>(() => AlignmentAnalyzer.Compute(op.Risk, x.narrow(0, 0, 6), v, new AlignmentOptions { UseTrueLabels = true }));
        Assert.Contains("explicit labels", ex.Message);
    }

    [Fact]
    public void Float64AnalysisOfAFloat32Model_GivesTheAlignmentOfAFloat64Copy()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(40, 3, 3, seed: 59);
        var x32 = x64.to(ScalarType.Float32);
        var model32 = TinyModels.Mlp([3, 6, 3], "tanh", seed: 60, dtype: ScalarType.Float32);
        var model64 = TinyModels.Mlp([3, 6, 3], "tanh", seed: 61);
        using (no_grad())
        {
            foreach (var (target, source) in model64.parameters().Zip(model32.parameters()))
                target.copy_(source.to(ScalarType.Float64));
        }
        using var op32 = new LossHessianOperator(model32, LossFunction.CrossEntropy, DataSource.FromTensors(x32, y),
            options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });
        using var op64 = new LossHessianOperator(model64, LossFunction.CrossEntropy, DataSource.FromTensors(x32.to(ScalarType.Float64), y));
        Assert.Equal(ScalarType.Float64, op32.DType);
        var v = GeometryReferences.RandomDirections(op64.Dimension, 4, seed: 62);
        using var a32 = AlignmentAnalyzer.Compute(op32.Risk, x32, v);
        using var a64 = AlignmentAnalyzer.Compute(op64.Risk, x32.to(ScalarType.Float64), v);
        Assert.True((a32.Alignment - a64.Alignment).abs().max().item<double>() <= 1e-12, "float64 analysis of the float32 model differs from the float64 copy");
        Assert.Equal(a64.GradientNorms, a32.GradientNorms, (a, b) => Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(b)));
        // The model itself stays float32.
        Assert.All(model32.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void RepeatedAnalyses_LeaveNoLiveTensors()
    {
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 63);
        x.DetachFromDisposeScope();
        y.DetachFromDisposeScope();
        var model = TinyModels.Mlp([3, 5, 3], "tanh", seed: 64);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var v = GeometryReferences.RandomDirections(op.Dimension, 3, seed: 65).DetachFromDisposeScope();
        var slow = new AlignmentOptions { BatchSize = 7, UseFastPerSampleNorms = false, UseFastDirectionalDerivatives = false };
        AlignmentAnalyzer.Compute(op.Risk, x, v).Dispose();
        AlignmentAnalyzer.Compute(op.Risk, x, v, slow).Dispose();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
        {
            AlignmentAnalyzer.Compute(op.Risk, x, v).Dispose();
            AlignmentAnalyzer.Compute(op.Risk, x, v, slow).Dispose();
            BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 2, seed: i);
        }
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        v.Dispose();
    }
}
