using static TorchSharp.torch;

namespace HessianGeometry.Tests;

internal static class Assertions
{
    /// <summary>max|a − b| / max(max|b|, tiny) ≤ tol, with a readable failure.</summary>
    public static void RelativelyClose(Tensor actual, Tensor expected, double tolerance, string what = "values")
    {
        using var scope = NewDisposeScope();
        Xunit.Assert.Equal(expected.shape, actual.shape);
        var diff = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
        var scale = Math.Max(expected.to(ScalarType.Float64).abs().max().item<double>(), 1e-300);
        var rel = diff / scale;
        Xunit.Assert.True(rel <= tolerance, $"{what}: relative error {rel:G3} exceeds {tolerance:G3} (max abs diff {diff:G3}, scale {scale:G3}).");
    }
}
