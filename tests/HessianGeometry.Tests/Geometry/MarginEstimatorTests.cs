using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HessianGeometry.Tests.Geometry;

public sealed class MarginEstimatorTests(ITestOutputHelper output)
{
    /// <summary>
    /// Softmax regression with logits (x₁, −x₁): the decision boundary is the line x₁ = 0. The data are mirror-symmetric
    /// about it. Then the Hessian is (1/n) Σ s_i (u uᵀ) ⊗ z_i z_iᵀ with u = (1, −1), z = (x; 1), s_i = p₀p₁, its top
    /// eigenvector is u ⊗ m₁ with m₁ = (0, α, β) (symmetry kills the x₁ coupling, and the data are spread along x₂), and
    /// g(x) = ±c (u ⊗ z) is parallel to it exactly at z ∥ m₁, i.e. x_b = (0, α/β): on the boundary.
    /// </summary>
    private static (TorchSharp.Modules.Sequential Model, Tensor X, Tensor Y) MirrorSymmetricProblem()
    {
        var layer = Linear(2, 2, dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.weight!.copy_(tensor(new double[] { 1, 0, -1, 0 }).view(2, 2));
            layer.bias!.zero_();
        }
        var model = Sequential(("0", layer));
        model.eval();
        var points = new List<double>();
        foreach (var x2 in new[] { 1.0, 2.0, 3.0 })
        {
            foreach (var x1 in new[] { 0.3, 0.6 })
                points.AddRange([x1, x2, -x1, x2]);
        }
        var x = tensor(points.ToArray()).view(-1, 2);
        var y = (x[.., 0] < 0).to(ScalarType.Int64);
        return (model, x, y);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnALinearModel_TheBoundaryPointLiesOnTheKnownLine_AndTheMarginIsAnalytic(bool startFromStandardNormal)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = MirrorSymmetricProblem();
        var weight = model.parameters().First();
        var bias = model.parameters().Last();
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));

        // Independent reference: closed-form Hessian, its top eigenvector, closed-form reinforcing gradients.
        var (values, vectors) = linalg.eigh(AnalyticHessians.SoftmaxRegression(weight, bias, x));
        Assert.True(values[-1].item<double>() > 1.5 * values[-2].item<double>(), "top eigenvalue must be isolated");
        var v1 = vectors[.., -1];
        var expectedBoundary = new[] { v1[0].item<double>() / v1[4].item<double>(), v1[1].item<double>() / v1[4].item<double>() };
        Assert.True(Math.Abs(expectedBoundary[0]) < 1e-10, "by symmetry the analytic x_b lies on x₁ = 0");
        var p = nn.functional.softmax(model.call(x), 1).detach();
        var residual = p - nn.functional.one_hot(p.argmax(1), 2).to(ScalarType.Float64);
        var g = cat([(residual.unsqueeze(2) * x.unsqueeze(1)).reshape(-1, 4), residual], 1);
        var cosine = g.mv(v1) / g.norm(1);
        var maxIndex = cosine.argmax().item<long>();
        var minIndex = cosine.argmin().item<long>();
        double Distance(long row) => Math.Sqrt(Math.Pow(x[row, 0].item<double>() - expectedBoundary[0], 2) + Math.Pow(x[row, 1].item<double>() - expectedBoundary[1], 2));
        var expectedMargin = Math.Min(Distance(maxIndex), Distance(minIndex));

        using var alignment = AlignmentAnalyzer.Compute(op.Risk, x, v1.unsqueeze(1));
        var options = startFromStandardNormal ? new MarginOptions { Start = MarginStart.StandardNormal, Restarts = 1, Seed = 3 } : new MarginOptions();
        var estimate = MarginEstimator.Estimate(op.Risk, x, alignment, v1, options);
        output.WriteLine($"x_b = ({estimate.BoundaryPoint[0]:G6}, {estimate.BoundaryPoint[1]:G6}), expected ({expectedBoundary[0]:G6}, {expectedBoundary[1]:G6}); steps {estimate.Steps}; " +
            $"|A| = {estimate.FinalAbsAlignment:G17}; gap {estimate.LogitGap:G3}; margin {estimate.Margin:G8} vs {expectedMargin:G8}");

        Assert.Equal((int)maxIndex, estimate.MaxIndex);
        Assert.Equal((int)minIndex, estimate.MinIndex);
        Assert.True(Math.Abs(estimate.BoundaryPoint[0]) <= 1e-3, $"x_b is {Math.Abs(estimate.BoundaryPoint[0]):G3} from the boundary line x₁ = 0");
        Assert.True(Math.Abs(estimate.BoundaryPoint[1] - expectedBoundary[1]) <= 1e-3, "x_b must be where g ∥ v₁");
        Assert.True(Math.Abs(estimate.LogitGap) <= 2e-3, $"logit gap at x_b is {estimate.LogitGap:G3}");
        Assert.True(Math.Abs(estimate.Margin - expectedMargin) <= 1e-3 * expectedMargin, $"margin {estimate.Margin} vs analytic {expectedMargin}");
        Assert.True(estimate.FinalAbsAlignment >= 1 - 1e-6);
        Assert.True(estimate.Objective <= 1e-12);

        // The class changes where the segment between the mirror images crosses x₁ = 0, at their midpoint.
        Assert.NotNull(estimate.BisectionPoint);
        Assert.True(Math.Abs(estimate.BisectionPoint![0]) <= 1e-12);
        Assert.Equal(x[maxIndex, 1].item<double>(), estimate.BisectionPoint[1], 12);
        Assert.Equal(Math.Abs(x[maxIndex, 1].item<double>() - estimate.BoundaryPoint[1]), estimate.DistanceToBisectionPoint!.Value, 3);
    }

    [Fact]
    public void PaperPreset_IsTheAuthorsProcedure()
    {
        var paper = MarginOptions.PaperPreset;
        Assert.Equal(MarginOptimizer.Sgd, paper.Optimizer);
        Assert.Equal(MarginObjective.Paper, paper.Objective);
        Assert.Equal(0.01, paper.LearningRate);
        Assert.Equal(1e-3, paper.WeightDecay);
        Assert.Equal(20_000, paper.MaxSteps);
        Assert.Equal(5_000, paper.LearningRateDecayStep);
        Assert.Equal(0.1, paper.LearningRateDecayFactor);
        Assert.False(paper.EarlyStopping);
        Assert.Equal(MarginStart.StandardNormal, paper.Start);
        Assert.Equal(1, paper.Restarts);
    }

    [Fact]
    public void AnEigenvectorIndexOutsideTheAlignment_IsRefused()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = MirrorSymmetricProblem();
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var v = GeometryReferences.RandomDirections(op.Dimension, 2, seed: 70);
        using var alignment = AlignmentAnalyzer.Compute(op.Risk, x, v);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => MarginEstimator.Estimate(op.Risk, x, alignment, v[.., 0], new MarginOptions { EigenvectorIndex = 2 }));
        Assert.Contains("EigenvectorIndex", ex.Message);
    }

    [Fact]
    public void OnAnMlp_TheReportedAlignmentGapAndBisectionDescribeTheReturnedPoints()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = GeometryReferences.TrainedMixture([-5, 0, 0, 0, 5, 0], perClass: 20, hidden: 8, steps: 150, spread: 0.6, seed: 71);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var v1 = linalg.eigh(op.ToDense()).Item2[.., -1];
        using var alignment = AlignmentAnalyzer.Compute(op.Risk, x, v1.unsqueeze(1));
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var estimate = MarginEstimator.Estimate(op.Risk, x, alignment, v1, new MarginOptions { Restarts = 2, MaxSteps = 300 });
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        output.WriteLine($"x_b = ({estimate.BoundaryPoint[0]:G4}, {estimate.BoundaryPoint[1]:G4}), |A| {estimate.FinalAbsAlignment:G4}, gap {estimate.LogitGap:G3}, " +
            $"margin {estimate.Margin:G4}, distance to the class change {estimate.DistanceToBisectionPoint:G3}");

        var xb = tensor(estimate.BoundaryPoint).view(1, 2);
        using var atBoundaryPoint = AlignmentAnalyzer.Compute(op.Risk, xb, v1.unsqueeze(1));
        Assert.Equal(Math.Abs(atBoundaryPoint.Alignment[0, 0].item<double>()), estimate.FinalAbsAlignment, 10);
        Assert.Equal(Math.Pow(estimate.FinalAbsAlignment * estimate.FinalAbsAlignment - 1, 2), estimate.Objective, 10);
        var logits = model.call(xb).detach().sort(1, descending: true).Values;
        Assert.Equal((logits[0, 0] - logits[0, 1]).item<double>(), estimate.LogitGap, 10);
        Assert.Equal(estimate.MaxIndex, Array.IndexOf(alignment.Alignment[.., 0].data<double>().ToArray(), alignment.Alignment[.., 0].max().item<double>()));

        // x_t^max and x_t^min lie on opposite sides (their alignments have opposite signs), so the class changes between them.
        Assert.NotNull(estimate.BisectionPoint);
        var start = tensor(estimate.NearestMaxPoint).view(1, 2);
        var end = tensor(estimate.NearestMinPoint).view(1, 2);
        var crossing = tensor(estimate.BisectionPoint!).view(1, 2);
        var step = (end - start) * 1e-9;
        Assert.NotEqual(model.call(crossing - step).argmax(1).item<long>(), model.call(crossing + step).argmax(1).item<long>());
        Assert.Equal((xb - crossing).norm().item<double>(), estimate.DistanceToBisectionPoint!.Value, 10);
        Assert.Equal(Math.Min((xb - start).norm().item<double>(), (xb - end).norm().item<double>()), estimate.Margin, 10);
    }
}
