using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

public sealed class BoundaryComplexityMeasureTests(ITestOutputHelper output)
{
    [Fact]
    public void RandomBaseline_IsReproducibleForASeed_AndChangesWithIt()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 3, seed: 91);
        var model = TinyModels.Mlp([3, 8, 3], "tanh", seed: 92);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var first = BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 5, seed: 7);
        var again = BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 5, seed: 7);
        var other = BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 5, seed: 8);
        Assert.Equal(first, again);
        Assert.NotEqual(first.MeanVariant, other.MeanVariant);
        Assert.False(first.Explicit);
        Assert.Equal(5, first.Directions);
        Assert.True(first.MeanVariant > 0 && first.MeanVariant <= first.MaxVariant && first.MaxVariant < 1);
    }

    [Fact]
    public void RandomBaseline_IsTheMeanOverDirectionsOfTheAlignmentStatistics()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(25, 3, 3, seed: 93);
        var model = TinyModels.Mlp([3, 5, 3], "relu", seed: 94);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var epsilon = BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 3, seed: 11);
        // The same directions, drawn independently: float64 standard normals from a CPU generator seeded with 11.
        var r = randn(op.Dimension, 3, dtype: ScalarType.Float64, generator: new Generator(11));
        var cos = GeometryReferences.ExplicitAlignment(GeometryReferences.ExplicitGradients(model, x), r).abs();
        Assert.Equal(cos.mean([0L]).mean().item<double>(), epsilon.MeanVariant, 10);
        Assert.Equal(cos.amax([0L]).mean().item<double>(), epsilon.MaxVariant, 10);
    }

    [Fact]
    public void Compute_CountsEigenvectorsAboveEpsilon_ForEachStatistic()
    {
        using var alignment = new AlignmentResult(zeros(1, 4, dtype: ScalarType.Float64), [0.5, 0.1, 0.3, 0.2], [0.9, 0.2, 0.8, 0.25], [1.0], [0L], [1.0]);
        var result = BoundaryComplexityMeasure.Compute(alignment, parameterCount: 40, eigenvectorsAreComplete: false, EpsilonBaseline.FromValues(0.2, 0.22));
        Assert.Equal([0, 2], result.EncodingIndicesMean);
        Assert.Equal([0, 2, 3], result.EncodingIndicesMax);
        Assert.Equal(2, result.EncodingCountMean);
        Assert.Equal(3, result.EncodingCountMax);
        Assert.Equal(4, result.EigenvectorsConsidered);
        Assert.Equal(2.0 / 40, result.ComplexityMean);
        Assert.Equal(3.0 / 40, result.ComplexityMax);
        Assert.True(result.IsLowerBound);
    }

    [Fact]
    public void Compute_WithCompleteEigenvectors_RequiresAllP()
    {
        using var alignment = new AlignmentResult(zeros(1, 2, dtype: ScalarType.Float64), [0.5, 0.1], [0.9, 0.2], [1.0], [0L], [1.0]);
        var ex = Assert.Throws<ArgumentException>(() => BoundaryComplexityMeasure.Compute(alignment, 3, eigenvectorsAreComplete: true, EpsilonBaseline.FromValue(0.1)));
        Assert.Contains("2 of 3", ex.Message);
        var complete = BoundaryComplexityMeasure.Compute(alignment, 2, eigenvectorsAreComplete: true, EpsilonBaseline.FromValue(0.1));
        Assert.False(complete.IsLowerBound);
        Assert.Equal(0.5, complete.ComplexityMean);
    }

    [Fact]
    public void ExplicitEpsilon_OutsideZeroOne_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EpsilonBaseline.FromValue(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EpsilonBaseline.FromValue(-0.1));
        Assert.True(EpsilonBaseline.FromValue(0.05).Explicit);
    }

    /// <summary>
    /// Three Gaussian clusters in a row (two straight boundaries), an MLP trained to zero error. The Hessian's top two
    /// eigenvalues are outliers, one per boundary. Checked: the eigenvectors above the random baseline are few, all among
    /// the top 20 of the exact spectrum (none further down), and include the two outliers; G over all p is in (0, 1] and
    /// small; and the top eigenvector aligns far more with the inputs nearest the boundary (smallest logit gap) than with
    /// those farthest from it.
    /// </summary>
    [Fact]
    public void OnAGaussianMixture_FewTopEigenvectorsEncodeTheBoundary_AndAlignMostNearIt()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = GeometryReferences.TrainedMixture([-5, 0, 0, 0, 5, 0], perClass: 40, hidden: 12, steps: 200, spread: 0.6, seed: 80);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.Equal(1.0, (model.call(x).argmax(1) == y).to(ScalarType.Float64).mean().item<double>());
        var (values, vectors) = linalg.eigh(op.ToDense());
        var descending = vectors.flip(1);
        using var all = AlignmentAnalyzer.Compute(op.Risk, x, descending);
        using var top = AlignmentAnalyzer.Compute(op.Risk, x, descending.narrow(1, 0, 20));
        var epsilon = BoundaryComplexityMeasure.RandomBaseline(op.Risk, x);
        var complete = BoundaryComplexityMeasure.Compute(all, op.Dimension, eigenvectorsAreComplete: true, epsilon);
        var partial = BoundaryComplexityMeasure.Compute(top, op.Dimension, eigenvectorsAreComplete: false, epsilon);
        output.WriteLine($"p = {op.Dimension}, top eigenvalues {string.Join(", ", values.flip(0).narrow(0, 0, 4).data<double>().ToArray().Select(v => v.ToString("G3")))}, " +
            $"ε = {epsilon.MeanVariant:G3}, encoding (mean) [{string.Join(", ", complete.EncodingIndicesMean)}], G = {complete.ComplexityMean:G3}");

        Assert.True((values[-2] / values[-3]).item<double>() > 2, "two outlier eigenvalues, one per boundary");
        Assert.Contains(0, partial.EncodingIndicesMean);
        Assert.Contains(1, partial.EncodingIndicesMean);
        Assert.Equal(complete.EncodingIndicesMean, partial.EncodingIndicesMean);
        Assert.InRange(partial.EncodingCountMean, 2, 12);
        Assert.True(complete.ComplexityMean > 0 && complete.ComplexityMean <= 0.2, $"G = {complete.ComplexityMean}");
        Assert.True(partial.IsLowerBound && !complete.IsLowerBound);
        Assert.Equal(complete.ComplexityMean, partial.ComplexityMean);

        var order = tensor(top.LogitGaps).argsort();
        var tenth = x.shape[0] / 10;
        var a1 = top.Alignment[.., 0].abs();
        var nearest = a1.index_select(0, order.narrow(0, 0, tenth)).mean().item<double>();
        var farthest = a1.index_select(0, order.narrow(0, order.shape[0] - tenth, tenth)).mean().item<double>();
        output.WriteLine($"mean |A_1|: nearest 10% {nearest:G3}, farthest 10% {farthest:G3}");
        Assert.True(nearest > 2 * farthest, $"mean |A_1| near the boundary {nearest:G3} vs far from it {farthest:G3}");
    }
}
