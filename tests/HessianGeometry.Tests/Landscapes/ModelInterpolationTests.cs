using HessianGeometry.Landscapes;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Landscapes;

public sealed class ModelInterpolationTests
{
    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void SegmentEndpoints_EqualTheTwoModelsLosses(ScalarType analysisType)
    {
        using var scope = NewDisposeScope();
        var (x64, y) = LandscapeCases.Blobs();
        // Float32 models, analysed in float32 (their own parameters) or float64 (twins).
        var a = LandscapeCases.TrainedFloat32Mlp(1, x64, y);
        var b = LandscapeCases.TrainedFloat32Mlp(2, x64, y);
        var x = x64.to(ScalarType.Float32);
        using var riskA = LandscapeCases.Risk(a, LossFunction.CrossEntropy, x, y, analysisType);
        using var riskB = LandscapeCases.Risk(b, LossFunction.CrossEntropy, x, y, analysisType);
        using var directions = ModelInterpolation.Segment(riskA.AnalysisParameters, ParameterVectors.FromModule(b, riskA.Parameters));
        var result = LossLandscape.Evaluate(riskA, directions, new LandscapeGridOptions { Steps = 25, Span = 1.0 });

        var axis = result.Coordinates[0];
        Assert.Equal(-1.0, axis[0]);
        Assert.Equal(2.0, axis[^1]);
        var atA = Array.IndexOf(axis, 0.0);
        var atB = Array.IndexOf(axis, 1.0);
        Assert.True(atA >= 0 && atB > atA, "both ends of the segment are grid points");
        Assert.Equal(riskA.Loss(), result.Loss[atA]);
        Assert.Equal(riskA.Loss(), result.CenterLoss);
        // θ_A + 1·(θ_B − θ_A) is θ_B up to one rounding of the float64 sum.
        var tolerance = analysisType == ScalarType.Float64 ? 1e-12 : 1e-6;
        Assert.Equal(riskB.Loss(), result.Loss[atB], tolerance);
        Assert.Equal(riskB.Loss(), result.Anchors[1].Loss!.Value, tolerance);
        Assert.Equal(riskA.Loss(), result.Anchors[0].Loss!.Value);
    }

    [Fact]
    public void Plane_PassesThroughAllThreeModels()
    {
        using var scope = NewDisposeScope();
        var (x, y) = LandscapeCases.Blobs();
        var models = new[] { LandscapeCases.Mlp(seed: 1), LandscapeCases.Mlp(seed: 2), LandscapeCases.Mlp(seed: 3) };
        foreach (var m in models)
            TinyTraining.CrossEntropyAdam(m, x, y, steps: 30);
        var risks = models.Select(m => LandscapeCases.Risk(m, LossFunction.CrossEntropy, x, y)).ToArray();
        try
        {
            using var directions = ModelInterpolation.Plane(risks[0].AnalysisParameters,
                ParameterVectors.FromModule(models[1], risks[0].Parameters), ParameterVectors.FromModule(models[2], risks[0].Parameters));
            // The basis is orthonormal.
            Assert.Equal(1.0, directions.Vectors[0].norm().item<double>(), 1e-12);
            Assert.Equal(1.0, directions.Vectors[1].norm().item<double>(), 1e-12);
            Assert.Equal(0.0, directions.Vectors[0].dot(directions.Vectors[1]).item<double>(), 1e-12);
            var result = LossLandscape.Evaluate(risks[0], directions, new LandscapeGridOptions { Steps = 5, Span = 0.2 });
            for (var k = 0; k < 3; k++)
                Assert.Equal(risks[k].Loss(), result.Anchors[k].Loss!.Value, 1e-12);
            Assert.Equal(risks[0].Loss(), result.CenterLoss);
            // The grid covers the three models with the margin.
            foreach (var anchor in result.Anchors)
            {
                for (var axis = 0; axis < 2; axis++)
                    Assert.InRange(anchor.Coordinates[axis], result.Coordinates[axis][0], result.Coordinates[axis][^1]);
            }
            Assert.Equal(25 + 3, result.Evaluations);
        }
        finally
        {
            foreach (var r in risks)
                r.Dispose();
        }
    }

    [Fact]
    public void CollinearThirdModel_IsRefused()
    {
        using var scope = NewDisposeScope();
        var a = LandscapeCases.Mlp(seed: 1);
        var space = ParameterSpace.FromModule(a);
        var theta = space.GetValues();
        var b = theta * 2;
        var c = theta * 3;
        var ex = Assert.Throws<ArgumentException>(() => ModelInterpolation.Plane(space, b, c));
        Assert.Contains("line", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherArchitecture_IsRefusedByName()
    {
        using var scope = NewDisposeScope();
        var a = LandscapeCases.Mlp(seed: 1);
        var other = TinyModels.Mlp([3, 5, 3], "tanh", 2);
        var ex = Assert.Throws<ArgumentException>(() => ParameterVectors.FromModule(other, ParameterSpace.FromModule(a), "--other"));
        Assert.Contains("--other", ex.Message, StringComparison.Ordinal);
        Assert.Contains("shape", ex.Message, StringComparison.Ordinal);
    }
}
