using HessianGeometry.EigenSolvers;
using HessianGeometry.Landscapes;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Landscapes;

public sealed class LossLandscapeTests
{
    [Fact]
    public void LeastSquares_RandomSurface_EqualsTheExactQuadraticExpansion()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = LandscapeCases.LinearRegression(atMinimum: false);
        using var risk = LandscapeCases.Risk(model, LossFunction.MeanSquaredError, x, y, batchSize: 7);
        using var directions = FilterNormalizedDirections.Create(risk.AnalysisParameters, 2, seed: 5);
        var result = LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = 7, Span = 2.0 });

        var w = model.parameters().First().detach().reshape(-1);
        Assert.Equal(49, result.Loss.Length);
        for (var i = 0; i < 7; i++)
        {
            for (var j = 0; j < 7; j++)
            {
                var delta = directions.Vectors[0] * result.Coordinates[0][i] + directions.Vectors[1] * result.Coordinates[1][j];
                var expected = LandscapeCases.LeastSquaresAt(x, y, w, delta);
                Assert.True(Math.Abs(result.LossAt(i, j) - expected) <= 1e-12 * expected, $"({i}, {j}): {result.LossAt(i, j)} vs {expected}");
            }
        }
        Assert.Equal(risk.Loss(), result.CenterLoss);
        Assert.Null(result.Accuracy);
    }

    [Fact]
    public void LeastSquaresMinimum_EigenvectorCurve_IsTheQuadraticModel_AndNeverDeparts()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = LandscapeCases.LinearRegression(atMinimum: true);
        using var risk = LandscapeCases.Risk(model, LossFunction.MeanSquaredError, x, y);
        using var directions = EigenvectorDirections.FromHessian(risk, 1, seed: 0, new EigenSolverOptions { Tolerance = 1e-10 });
        var dense = linalg.eigvalsh(AnalyticHessians.LeastSquares(x));
        Assert.Equal(dense[-1].item<double>(), directions.Eigenvalues![0], 1e-9);

        var result = LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = 11, Span = 3.0 });
        var q = Assert.Single(result.QuadraticModel!);
        for (var i = 0; i < 11; i++)
            Assert.True(Math.Abs(result.Loss[i] - q.Quadratic[i]) <= 1e-9 * q.Quadratic[i], $"α = {q.Coordinates[i]}: {result.Loss[i]} vs {q.Quadratic[i]}");
        Assert.Null(q.DepartureNegative);
        Assert.Null(q.DeparturePositive);
        // The quartic fit of an exact parabola has c₂ = λ/2 and no other curvature.
        Assert.Equal(0.5 * q.Eigenvalue, q.QuarticCoefficients![2], 1e-8);
        Assert.Equal(0, q.QuarticCoefficients[4], 1e-8);
        Assert.Equal(result.Eigenvalues, directions.Eigenvalues);
    }

    [Fact]
    public void EigenvectorSurface_OfASoftmaxMinimum_HasTheQuadraticSlicesThroughTheCentre()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 1);
        var (x, y) = LandscapeCases.Blobs();
        TinyTraining.CrossEntropyAdam(model, x, y, steps: 200);
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y);
        using var directions = EigenvectorDirections.FromHessian(risk, 2, seed: 0);
        var result = LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = 9, Span = 0.5 });
        Assert.Equal(2, result.QuadraticModel!.Length);
        // The centre row of the grid is the slice along v1.
        Assert.Equal(Enumerable.Range(0, 9).Select(i => result.LossAt(i, 4)), result.QuadraticModel[0].Loss);
        Assert.Equal(Enumerable.Range(0, 9).Select(j => result.LossAt(4, j)), result.QuadraticModel[1].Loss);
        Assert.Equal(risk.Loss(), result.CenterLoss);
        Assert.NotNull(result.Accuracy);
        Assert.InRange(result.CenterAccuracy!.Value, 0.5, 1.0);
    }

    [Fact]
    public void SameSeed_GivesAnIdenticalGrid_AndAnotherSeedDoesNot()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 2);
        var (x, y) = LandscapeCases.Blobs();
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y, batchSize: 16);
        double[] Run(long seed)
        {
            using var d = FilterNormalizedDirections.Create(risk.AnalysisParameters, 2, seed);
            return LossLandscape.Evaluate(risk, d, new LandscapeGridOptions { Steps = 5 }).Loss;
        }
        var first = Run(11);
        Assert.Equal(first, Run(11));
        Assert.NotEqual(first, Run(12));
    }

    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.Float32, ScalarType.Float64)]
    [InlineData(ScalarType.Float64, ScalarType.Float64)]
    public void Model_IsRestoredBitwise_AfterAGrid_AndAfterCancellation(ScalarType modelType, ScalarType analysisType)
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 3, modelType);
        var (x, y) = LandscapeCases.Blobs(modelType);
        var before = LandscapeCases.Bytes(model);
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y, analysisType);
        var riskBefore = risk.AnalysisParameters.GetValues().to(ScalarType.Float64).data<double>().ToArray();
        using var directions = FilterNormalizedDirections.Create(risk.AnalysisParameters, 2, seed: 1);

        var result = LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = 5 });
        Assert.Equal(before, LandscapeCases.Bytes(model));
        Assert.Equal(risk.Loss(), result.CenterLoss);

        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress<LandscapeProgress>(p =>
        {
            if (p.Completed == 3)
                cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = 5 }, progress, cancel.Token));
        Assert.Equal(before, LandscapeCases.Bytes(model));
        Assert.Equal(riskBefore, risk.AnalysisParameters.GetValues().to(ScalarType.Float64).data<double>().ToArray());
    }

    [Fact]
    public void Progress_CountsEveryPoint()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 4);
        var (x, y) = LandscapeCases.Blobs();
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y);
        using var directions = FilterNormalizedDirections.Create(risk.AnalysisParameters, 1, seed: 1);
        var reports = new List<LandscapeProgress>();
        var result = LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = 7 }, new SyncProgress<LandscapeProgress>(reports.Add));
        Assert.Equal(Enumerable.Range(1, 7).Select(i => new LandscapeProgress(i, 7)), reports);
        Assert.Equal(7, result.Evaluations);
        Assert.Equal([-1.0, -2.0 / 3, -1.0 / 3, 0, 1.0 / 3, 2.0 / 3, 1.0], result.Coordinates[0]);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(1)]
    [InlineData(-3)]
    public void BadSteps_AreRefusedWithAClearMessage(int steps)
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 4);
        var (x, y) = LandscapeCases.Blobs();
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y);
        using var directions = FilterNormalizedDirections.Create(risk.AnalysisParameters, 1, seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LossLandscape.Evaluate(risk, directions, new LandscapeGridOptions { Steps = steps }));
        Assert.Contains("odd", ex.Message, StringComparison.Ordinal);
    }
}
