using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// Principal curvatures of the decision boundary against the sphere (every κ = 1/r), the sign convention, the Lanczos
/// path against the dense one, and the piecewise-linear case (zero Hessian, linear pieces counted against a brute-force
/// sampling written here).
/// </summary>
public sealed class BoundaryCurvatureEstimatorTests
{
    [Theory]
    [InlineData(2, 0.7)]
    [InlineData(3, 1.5)]
    [InlineData(6, 2.5)]
    public void SphericalBoundary_EveryPrincipalCurvatureIsOneOverTheRadius(int d, double radius)
    {
        using var scope = NewDisposeScope();
        manual_seed(d);
        var centre = randn(d, dtype: ScalarType.Float64);
        var model = new SphereClassifier(centre.data<double>().ToArray(), radius);
        var x = centre + randn(10, d, dtype: ScalarType.Float64) * (0.2 * radius / Math.Sqrt(d));
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, zeros(10, dtype: ScalarType.Int64)));

        var margins = SampleMarginEstimator.Estimate(risk, x);
        Assert.Equal(0, margins.FailureCount);
        var points = tensor(margins.BoundaryPoints.SelectMany(p => p).ToArray()).view(10, d);
        var curvatures = BoundaryCurvatureEstimator.Compute(risk, points, Enumerable.Repeat(0, 10).ToArray(), Enumerable.Repeat(1, 10).ToArray());

        foreach (var c in curvatures)
        {
            Assert.Equal("dense", c.Method);
            Assert.Equal(d - 1, c.Principal.Length);
            foreach (var kappa in c.Principal)
                Assert.True(Math.Abs(kappa - 1 / radius) <= 1e-8, $"κ = {kappa}, expected {1 / radius}");
            Assert.True(Math.Abs(c.Mean - 1 / radius) <= 1e-8);
            Assert.Equal(2 * radius, c.GradientNorm, 1e-8);
            Assert.False(c.HessianIsZero);
        }

        // Seen from class 1 (outside the ball), the same boundary curves the other way.
        var flipped = BoundaryCurvatureEstimator.Compute(risk, points.narrow(0, 0, 1), [1], [0]);
        Assert.All(flipped[0].Principal, kappa => Assert.True(Math.Abs(kappa + 1 / radius) <= 1e-8));
    }

    [Fact]
    public void Ellipsoid_DenseCurvaturesMatchTheClosedForm_AndLanczosFindsTheExtremes()
    {
        using var scope = NewDisposeScope();
        // z₀ = 1 − Σ x_i²/a_i², z₁ = 0: at the vertex (a₀, 0, …, 0) the principal curvatures are a₀ / a_i² (i ≥ 1).
        double[] axes = [2.0, 1.0, 0.5, 4.0, 1.5];
        var model = new EllipsoidClassifier(axes);
        var vertex = zeros(1, axes.Length, dtype: ScalarType.Float64);
        vertex[0, 0] = axes[0];
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(vertex, zeros(1, dtype: ScalarType.Int64)));
        var expected = axes.Skip(1).Select(a => axes[0] / (a * a)).OrderDescending().ToArray();

        var dense = BoundaryCurvatureEstimator.Compute(risk, vertex, [0], [1])[0];
        var lanczos = BoundaryCurvatureEstimator.Compute(risk, vertex, [0], [1], new SampleMarginOptions { DenseCurvatureMaxDimension = 1, LanczosSteps = 10, Seed = 3 })[0];

        Assert.Equal(expected.Length, dense.Principal.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(dense.Principal[i] - expected[i]) <= 1e-10, $"κ{i} = {dense.Principal[i]}, expected {expected[i]}");
        Assert.Equal(expected.Average(), dense.Mean, 1e-10);
        Assert.Equal("lanczos", lanczos.Method);
        Assert.Equal(expected[0], lanczos.Principal[0], 1e-8);
        Assert.Equal(expected[^1], lanczos.Principal[^1], 1e-8);
        Assert.Equal(expected.Average(), lanczos.Mean, 1e-10);

        var again = BoundaryCurvatureEstimator.Compute(risk, vertex, [0], [1], new SampleMarginOptions { DenseCurvatureMaxDimension = 1, LanczosSteps = 10, Seed = 3 })[0];
        Assert.Equal(lanczos.Principal, again.Principal);
    }

    [Fact]
    public void ReluNetwork_HasAZeroHessian_AndItsPieceCountMatchesABruteForceSampling()
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        var layers = new[] { nn.Linear(2, 12), nn.Linear(12, 12), nn.Linear(12, 3) };
        var model = nn.Sequential(("0", layers[0]), ("1", nn.ReLU()), ("2", layers[1]), ("3", nn.ReLU()), ("4", layers[2]));
        model.to(ScalarType.Float64);
        model.eval();
        var x = randn(8, 2, dtype: ScalarType.Float64) * 1.5;
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, arange(8).remainder(3)));

        var margins = SampleMarginEstimator.Estimate(risk, x);
        var ok = Enumerable.Range(0, 8).Where(i => margins.Status[i] == SampleMarginStatus.OnBoundary).ToArray();
        Assert.NotEmpty(ok);
        var ends = tensor(ok.SelectMany(i => margins.BoundaryPoints[i]).ToArray()).view(ok.Length, 2);
        var starts = x.index_select(0, tensor(ok.Select(i => (long)i).ToArray()));
        var curvatures = BoundaryCurvatureEstimator.Compute(risk, ends, ok.Select(i => margins.Classes[i][0]).ToArray(), ok.Select(i => margins.Classes[i][1]).ToArray());
        Assert.All(curvatures, c => Assert.True(c.HessianIsZero));
        Assert.All(curvatures, c => Assert.All(c.Principal, kappa => Assert.Equal(0.0, kappa)));

        var pieces = LinearPieces.Count(risk, starts, ends, 4000, out var reason);
        Assert.NotNull(pieces);
        Assert.Equal("", reason);
        for (var j = 0; j < ok.Length; j++)
        {
            var reference = BruteForcePieces(layers, starts[j], ends[j], 200_000);
            Assert.True(pieces![j] >= 1);
            Assert.Equal(reference, pieces[j]);
        }
    }

    [Fact]
    public void Float32Analysis_GivesOneOverTheRadiusToFloat32Accuracy()
    {
        using var scope = NewDisposeScope();
        var model = new SphereClassifier([0.3, -0.2, 0.1], 1.25);
        model.to(ScalarType.Float32);
        var x = tensor(new float[] { 0.5f, 0.1f, 0.0f, 0.0f, -0.5f, 0.4f }).view(2, 3);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, zeros(2, dtype: ScalarType.Int64)));
        Assert.Equal(ScalarType.Float32, risk.DType);

        var margins = SampleMarginEstimator.Estimate(risk, x);
        var points = tensor(margins.BoundaryPoints.SelectMany(p => p).ToArray()).view(2, 3).to(ScalarType.Float32);
        var curvatures = BoundaryCurvatureEstimator.Compute(risk, points, [0, 0], [1, 1]);

        Assert.All(curvatures, c => Assert.All(c.Principal, kappa => Assert.True(Math.Abs(kappa - 0.8) <= 1e-4, $"κ = {kappa}")));
    }

    [Fact]
    public void RepeatedRuns_LeaveNoLiveTensors_AndCancellationStopsThem()
    {
        var statistics = DisposeScopeManager.Statistics;
        using var model = new SphereClassifier([0.0, 0.0, 0.0], 1);
        using var x = tensor(new double[] { 0.2, 0.1, 0.0, -0.3, 0.2, 0.1 }).view(2, 3);
        using var y = zeros(2, dtype: ScalarType.Int64);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var options = new SampleMarginOptions { DenseCurvatureMaxDimension = 1, LanczosSteps = 3 };
        SampleMarginEstimator.Estimate(risk, x);
        BoundaryCurvatureEstimator.Compute(risk, x, [0, 0], [1, 1], options);
        var live = statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++)
        {
            SampleMarginEstimator.Estimate(risk, x);
            BoundaryCurvatureEstimator.Compute(risk, x, [0, 0], [1, 1]);
            BoundaryCurvatureEstimator.Compute(risk, x, [0, 0], [1, 1], options);
        }
        Assert.Equal(live, statistics.ThreadTotalLiveCount);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => SampleMarginEstimator.Estimate(risk, x, cancellationToken: cancelled.Token));
        Assert.Throws<OperationCanceledException>(() => BoundaryCurvatureEstimator.Compute(risk, x, [0, 0], [1, 1], cancellationToken: cancelled.Token));
    }

    [Fact]
    public void ModelWithoutHookableActivations_GetsNoPieceCount_AndSaysWhy()
    {
        using var scope = NewDisposeScope();
        var model = new SphereClassifier([0.0, 0.0], 1);
        var x = zeros(1, 2, dtype: ScalarType.Float64);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, zeros(1, dtype: ScalarType.Int64)));
        Assert.Null(LinearPieces.Count(risk, x, x + 1, 16, out var reason));
        Assert.Contains("ReLU", reason);
    }

    [Fact]
    public void BadClassPairs_AreRefusedBeforeAutograd()
    {
        using var scope = NewDisposeScope();
        var model = new SphereClassifier([0.0, 0.0], 1);
        var x = zeros(1, 2, dtype: ScalarType.Float64);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, zeros(1, dtype: ScalarType.Int64)));
        Assert.Throws<ArgumentOutOfRangeException>(() => BoundaryCurvatureEstimator.Compute(risk, x, [0], [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BoundaryCurvatureEstimator.Compute(risk, x, [0], [2]));
        Assert.Throws<ArgumentException>(() => BoundaryCurvatureEstimator.Compute(risk, x, [0, 1], [1, 0]));
    }

    /// <summary>Pieces on the segment by evaluating the pre-activation signs of the MLP directly at `samples` + 1 points.</summary>
    private static int BruteForcePieces(Linear[] layers, Tensor start, Tensor end, int samples)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var t = linspace(0, 1, samples + 1, dtype: ScalarType.Float64).unsqueeze(1);
        var h = start.unsqueeze(0) + t * (end - start).unsqueeze(0);
        var patterns = new List<Tensor>();
        for (var l = 0; l < layers.Length - 1; l++)
        {
            var pre = h.matmul(layers[l].weight!.t()) + layers[l].bias!;
            patterns.Add(pre > 0);
            h = pre.clamp_min(0);
        }
        var pattern = cat(patterns, 1);
        var changes = pattern.narrow(0, 1, samples).ne(pattern.narrow(0, 0, samples)).any(1).sum().item<long>();
        return (int)changes + 1;
    }
}

/// <summary>z₀ = 1 − Σ x_i²/a_i², z₁ = 0: class 0's region is the ellipsoid with semi-axes a.</summary>
internal sealed class EllipsoidClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Parameter inverseSquares;

    public EllipsoidClassifier(double[] axes) : base("EllipsoidClassifier")
    {
        inverseSquares = new Parameter(tensor(axes.Select(a => 1 / (a * a)).ToArray(), dtype: ScalarType.Float64));
        RegisterComponents();
        eval();
    }

    public override Tensor forward(Tensor input)
    {
        var z0 = (input.square() * inverseSquares).sum(1).neg() + 1;
        return stack([z0, zeros_like(z0)], 1);
    }
}
