using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// Per-sample margins (DeepFool + bisection) against closed forms: the distance of x to the nearest boundary of an
/// affine classifier is min_{c≠k} (z_k − z_c) / ‖w_k − w_c‖, and of a point inside a ball-shaped class region r − ‖x − c‖.
/// </summary>
public sealed class SampleMarginEstimatorTests
{
    private static EmpiricalRisk Risk(nn.Module<Tensor, Tensor> model, Tensor x, long classes) =>
        new(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, arange(x.shape[0]).remainder(classes)));

    /// <summary>The analytic nearest-boundary distance and pair of an affine classifier with weights W [C, d] and bias b.</summary>
    private static (double Distance, int Other) AnalyticAffine(double[] z, Tensor w)
    {
        var k = Array.IndexOf(z, z.Max());
        var best = (Distance: double.PositiveInfinity, Other: -1);
        for (var c = 0; c < z.Length; c++)
        {
            if (c == k)
                continue;
            var normal = (w[k] - w[c]).norm().item<double>();
            var distance = (z[k] - z[c]) / normal;
            if (distance < best.Distance)
                best = (distance, c);
        }
        return best;
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(4, 5)]
    [InlineData(7, 6)]
    public void AffineClassifier_MarginsEqualTheAnalyticDistanceToTheNearestPairHyperplane(long seed, int classes)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        var layer = nn.Linear(5, classes, dtype: ScalarType.Float64);
        var model = nn.Sequential(("0", layer));
        model.eval();
        var x = randn(40, 5, dtype: ScalarType.Float64) * 2;
        using var risk = Risk(model, x, classes);

        var margins = SampleMarginEstimator.Estimate(risk, x);

        using var _ = no_grad();
        var z = model.call(x);
        for (var i = 0; i < 40; i++)
        {
            var (distance, other) = AnalyticAffine(z[i].data<double>().ToArray(), layer.weight!);
            Assert.Equal(SampleMarginStatus.OnBoundary, margins.Status[i]);
            Assert.True(Math.Abs(margins.Distances[i] - distance) <= 1e-10, $"input {i}: {margins.Distances[i]} vs analytic {distance}");
            Assert.Equal(other, margins.Classes[i][1]);
            Assert.Equal((int)z[i].argmax().item<long>(), margins.Classes[i][0]);
            AssertOnBoundary(model, margins.BoundaryPoints[i], [1, 5], margins.Classes[i]);
        }
        Assert.Equal(0, margins.FailureCount);
        Assert.Equal(margins.Distances.Min(), margins.Summary!.Min);
        Assert.Equal(margins.Distances.Average(), margins.Summary.Mean, 1e-12);
    }

    [Fact]
    public void InputsOfAnyShape_AreFlattenedForTheDistance()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var layer = nn.Linear(6, 3, dtype: ScalarType.Float64);
        var model = nn.Sequential(("flat", nn.Flatten()), ("0", layer));
        model.eval();
        var x = randn(12, 2, 3, dtype: ScalarType.Float64);
        using var risk = Risk(model, x, 3);

        var margins = SampleMarginEstimator.Estimate(risk, x, new SampleMarginOptions { BatchSize = 5 });

        using var _ = no_grad();
        var z = model.call(x);
        for (var i = 0; i < 12; i++)
        {
            var (distance, _) = AnalyticAffine(z[i].data<double>().ToArray(), layer.weight!);
            Assert.True(Math.Abs(margins.Distances[i] - distance) <= 1e-10, $"input {i}: {margins.Distances[i]} vs analytic {distance}");
            Assert.Equal(6, margins.BoundaryPoints[i].Length);
            AssertOnBoundary(model, margins.BoundaryPoints[i], [1, 2, 3], margins.Classes[i]);
        }
    }

    [Fact]
    public void Float32Analysis_AgreesWithTheAnalyticDistanceToFloat32Accuracy()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var layer = nn.Linear(4, 3);
        var model = nn.Sequential(("0", layer));
        model.eval();
        var x = randn(20, 4);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, arange(20).remainder(3)),
            options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float32 });

        var margins = SampleMarginEstimator.Estimate(risk, x);

        using var _ = no_grad();
        var z = model.call(x).to(ScalarType.Float64);
        var w = layer.weight!.to(ScalarType.Float64);
        for (var i = 0; i < 20; i++)
        {
            var (distance, _) = AnalyticAffine(z[i].data<double>().ToArray(), w);
            Assert.True(Math.Abs(margins.Distances[i] - distance) <= 1e-4 * (1 + distance), $"input {i}: {margins.Distances[i]} vs analytic {distance}");
        }
    }

    [Fact]
    public void BallShapedRegion_MarginIsRadiusMinusDistanceToCentre()
    {
        using var scope = NewDisposeScope();
        var model = new SphereClassifier(new double[] { 0.5, -1, 2 }, 1.5);
        var x = tensor(new double[] { 0.5, -1, 2, 1, -1, 2, 0, -0.5, 2.3, 0.6, -1.2, 1.1 }).view(4, 3);
        using var risk = Risk(model, x, 2);

        var margins = SampleMarginEstimator.Estimate(risk, x);

        var centre = tensor(new double[] { 0.5, -1, 2 });
        for (var i = 1; i < 4; i++)
        {
            var expected = 1.5 - (x[i] - centre).norm().item<double>();
            Assert.True(Math.Abs(margins.Distances[i] - expected) <= 1e-10, $"input {i}: {margins.Distances[i]} vs {expected}");
            Assert.Equal(new[] { 0, 1 }, margins.Classes[i]);
        }
        // At the centre every direction is a gradient of zero: DeepFool has no direction, and says so.
        Assert.Equal(SampleMarginStatus.ZeroGradient, margins.Status[0]);
        Assert.True(double.IsNaN(margins.Distances[0]));
        Assert.Equal(1, margins.FailureCount);
    }

    [Fact]
    public void ReluNetwork_BoundaryPointsLieOnTheBoundary_AndFailuresAreReportedPerSample()
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        var model = nn.Sequential(("0", nn.Linear(2, 16)), ("1", nn.ReLU()), ("2", nn.Linear(16, 16)), ("3", nn.ReLU()), ("4", nn.Linear(16, 3)));
        model.to(ScalarType.Float64);
        model.eval();
        var x = randn(30, 2, dtype: ScalarType.Float64);
        using var risk = Risk(model, x, 3);

        var margins = SampleMarginEstimator.Estimate(risk, x);
        for (var i = 0; i < 30; i++)
        {
            if (margins.Status[i] != SampleMarginStatus.OnBoundary)
                continue;
            AssertOnBoundary(model, margins.BoundaryPoints[i], [1, 2], margins.Classes[i]);
            Assert.Equal(SampleMarginEstimator.Distance(margins.BoundaryPoints[i], x[i].data<double>().ToArray()), margins.Distances[i], 1e-12);
        }
        Assert.True(margins.FailureCount < 30);

        var limited = SampleMarginEstimator.Estimate(risk, x, new SampleMarginOptions { MaxDistance = 1e-6 });
        for (var i = 0; i < 30; i++)
        {
            if (margins.Distances[i] > 1e-3)
            {
                Assert.Equal(SampleMarginStatus.OutOfSpan, limited.Status[i]);
                Assert.True(double.IsNaN(limited.Distances[i]));
            }
        }
    }

    [Fact]
    public void SameInputs_GiveIdenticalResults_AndTheModelIsUnchanged()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var model = nn.Sequential(("0", nn.Linear(3, 8)), ("1", nn.Tanh()), ("2", nn.Linear(8, 3)));
        model.eval();
        var x = randn(25, 3);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using var risk = Risk(model, x, 3);

        var first = SampleMarginEstimator.Estimate(risk, x);
        var second = SampleMarginEstimator.Estimate(risk, x);

        Assert.Equal(first.Distances, second.Distances);
        Assert.Equal(first.Status, second.Status);
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.True(before[i].eq(after[i]).all().item<bool>(), $"parameter {i} changed");
            Assert.True(after[i].grad is null || after[i].grad!.IsInvalid, $"parameter {i} got a gradient");
        }
        Assert.Equal(ScalarType.Float32, after[0].dtype);
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var model = nn.Sequential(("0", nn.Linear(3, 3)));
        model.to(ScalarType.Float64);
        var x = randn(6, 3, dtype: ScalarType.Float64);
        using var risk = Risk(model, x, 3);

        Assert.Contains("floating-point", Assert.Throws<ArgumentException>(() => SampleMarginEstimator.Estimate(risk, ones(6, 3, dtype: ScalarType.Int64))).Message);
        var nan = x.clone();
        nan[0, 0] = double.NaN;
        Assert.Contains("NaN", Assert.Throws<ArithmeticException>(() => SampleMarginEstimator.Estimate(risk, nan)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleMarginEstimator.Estimate(risk, x, new SampleMarginOptions { MaxIterations = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleMarginEstimator.Estimate(risk, x, new SampleMarginOptions { GapTolerance = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleMarginEstimator.Estimate(risk, x, new SampleMarginOptions { MaxDistance = -1 }));
        Assert.Throws<ArgumentException>(() => SampleMarginEstimator.Estimate(risk, randn(6, 4, dtype: ScalarType.Float64)));

        var regression = nn.Sequential(("0", nn.Linear(3, 1)));
        regression.to(ScalarType.Float64);
        using var mse = new EmpiricalRisk(regression, LossFunction.MeanSquaredError, DataSource.FromTensors(x, randn(6, 1, dtype: ScalarType.Float64)));
        Assert.Contains("[b, C]", Assert.Throws<ArgumentException>(() => SampleMarginEstimator.Estimate(mse, x)).Message);
    }

    /// <summary>z_a = z_b at the point to 1e-9 relative, and (a, b) are the top two classes there.</summary>
    internal static void AssertOnBoundary(nn.Module<Tensor, Tensor> model, double[] point, long[] shape, int[] pair)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var dtype = model.parameters().First().dtype;
        var z = model.call(tensor(point, dtype: ScalarType.Float64).reshape(shape).to(dtype))[0].to(ScalarType.Float64).data<double>().ToArray();
        var scale = 1 + z.Max(Math.Abs);
        Assert.True(Math.Abs(z[pair[0]] - z[pair[1]]) <= 1e-9 * scale, $"logit gap {z[pair[0]] - z[pair[1]]} at the boundary point");
        var top = z.Max();
        Assert.True(top - Math.Min(z[pair[0]], z[pair[1]]) <= 1e-9 * scale, "the pair is not the top two classes at the boundary point");
    }
}

/// <summary>z₀ = r² − ‖x − c‖², z₁ = 0: class 0's region is the open ball of radius r around c, its boundary the sphere.</summary>
internal sealed class SphereClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Parameter centre;
    private readonly double radius;

    public SphereClassifier(double[] centre, double radius) : base("SphereClassifier")
    {
        this.centre = new Parameter(tensor(centre, dtype: ScalarType.Float64));
        this.radius = radius;
        RegisterComponents();
        eval();
    }

    public override Tensor forward(Tensor input)
    {
        var z0 = (input - centre).square().sum(1).neg() + radius * radius;
        return stack([z0, zeros_like(z0)], 1);
    }
}
