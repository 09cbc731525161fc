using HessianGeometry.EigenSolvers;
using HessianGeometry.Landscapes;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Landscapes;

/// <summary>
/// Landscape directions from the top eigenvectors of the GGN (or a Fisher): each direction is an eigenvector of that
/// matrix, and the curvature its quadratic model uses is the loss's own second derivative along it (vᵀHv), checked by
/// central differences of the loss on a three-point grid.
/// </summary>
public sealed class CurvatureDirectionsTests
{
    [Fact]
    public void GgnDirections_AreGgnEigenvectors_AndTheirCurvatureIsTheLossSecondDerivative()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 1);
        var (x, y) = LandscapeCases.Blobs();
        TinyTraining.CrossEntropyAdam(model, x, y, steps: 200);
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y);
        using var directions = EigenvectorDirections.FromCurvature(risk, CurvatureKind.Ggn, 2, seed: 0, solverOptions: new EigenSolverOptions { Tolerance = 1e-10 });

        Assert.Equal(["ggn-v1", "ggn-v2"], directions.Names);
        Assert.Contains(directions.Notes, n => n.Contains("top eigenvectors of the GGN", StringComparison.Ordinal));
        using var ggn = CurvatureOperators.Create(risk, CurvatureKind.Ggn);
        var top = 0.0;
        for (var k = 0; k < 2; k++)
        {
            var v = directions.Vectors[k];
            var gv = ggn.Apply(v);
            var mu = v.dot(gv).item<double>();
            top = Math.Max(top, mu);
            Assert.True((gv - mu * v).norm().item<double>() <= 1e-6 * top, $"direction {k + 1} is not a GGN eigenvector");

            // L(θ + h v) − 2 L(θ) + L(θ − h v) over h² is vᵀHv up to O(h²).
            const double h = 1e-3;
            using var line = EigenvectorDirections.FromVectors([v], [directions.Eigenvalues![k]]);
            var slice = LossLandscape.Evaluate(risk, line, new LandscapeGridOptions { Steps = 3, Span = h });
            var secondDifference = (slice.Loss[0] - 2 * slice.Loss[1] + slice.Loss[2]) / (h * h);
            Assert.True(Math.Abs(secondDifference - directions.Eigenvalues[k]) <= 1e-4 * Math.Abs(directions.Eigenvalues[k]),
                $"direction {k + 1}: vᵀHv = {directions.Eigenvalues[k]}, second difference of the loss {secondDifference}");
        }
    }

    [Fact]
    public void HessianKind_IsTheHessianPath()
    {
        using var scope = NewDisposeScope();
        var model = LandscapeCases.Mlp(seed: 2);
        var (x, y) = LandscapeCases.Blobs();
        TinyTraining.CrossEntropyAdam(model, x, y, steps: 100);
        using var risk = LandscapeCases.Risk(model, LossFunction.CrossEntropy, x, y);
        using var viaKind = EigenvectorDirections.FromCurvature(risk, CurvatureKind.Hessian, 1, seed: 3);
        using var direct = EigenvectorDirections.FromHessian(risk, 1, seed: 3);
        Assert.Equal(direct.Eigenvalues, viaKind.Eigenvalues);
        Assert.Equal(direct.Names, viaKind.Names);
    }
}
