using HessianGeometry.Landscapes;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Landscapes;

public sealed class TrajectoryPcaTests
{
    [Fact]
    public void SyntheticTrajectory_InAKnownPlane_RecoversItsDirectionsAndCoordinates()
    {
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(3);
        var (q, _) = linalg.qr(randn(50, 2, dtype: ScalarType.Float64, generator: g));
        var e1 = q[.., 0].contiguous();
        var e2 = q[.., 1].contiguous();
        var final = randn(50, dtype: ScalarType.Float64, generator: g);
        // a ⟂ b and ‖a‖ > ‖b‖: the right singular vectors of the difference matrix are exactly e1 and e2.
        double[] a = [3, 2, 1, 0.5];
        double[] b = [1, -1, -1, 0];
        var points = a.Select((ai, t) => final + e1 * ai + e2 * b[t]).Append(final).ToList();
        using var pca = TrajectoryPca.Create(points, 2);

        // Training moves toward +d: the first checkpoint has a negative coordinate, so d1 = −e1 and d2 = −e2.
        Assert.Equal(1.0, -pca.Vectors[0].dot(e1).item<double>(), 1e-12);
        Assert.Equal(1.0, -pca.Vectors[1].dot(e2).item<double>(), 1e-12);
        Assert.Equal(14.25 / 17.25, pca.ExplainedVariance![0], 1e-12);
        Assert.Equal(3 / 17.25, pca.ExplainedVariance[1], 1e-12);
        for (var t = 0; t < a.Length; t++)
        {
            Assert.Equal(-a[t], pca.Anchors[t].Coordinates[0], 1e-12);
            Assert.Equal(-b[t], pca.Anchors[t].Coordinates[1], 1e-12);
        }
        Assert.Equal([0.0, 0.0], pca.Anchors[^1].Coordinates);
        Assert.True(pca.Origin!.eq(final).all().item<bool>());
        // The PCA axes widen to cover the trajectory.
        var axes = pca.Axes(new LandscapeGridOptions { Steps = 5, Span = 1.0 });
        Assert.Equal(1.25 * 3, axes[0][^1], 1e-12);
        Assert.Equal(1.25, axes[1][^1], 1e-12);
    }

    [Fact]
    public void CollinearTrajectory_HasOneDirection_AndRefusesTwo()
    {
        using var scope = NewDisposeScope();
        var e = ones(10, dtype: ScalarType.Float64) / Math.Sqrt(10);
        var points = new[] { e * 3, e * 2, e * 1, zeros(10, dtype: ScalarType.Float64) };
        using var one = TrajectoryPca.Create(points, 1);
        Assert.Equal(1.0, one.ExplainedVariance![0], 1e-12);
        var ex = Assert.Throws<ArgumentException>(() => TrajectoryPca.Create(points, 2));
        Assert.Contains("collinear", ex.Message, StringComparison.Ordinal);
    }
}
