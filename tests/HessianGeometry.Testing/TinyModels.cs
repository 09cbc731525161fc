using HessianGeometry.Interop;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Testing;

/// <summary>Small seeded models and data sets with known structure, shared by tests and benchmarks.</summary>
public static class TinyModels
{
    /// <summary>A Sequential MLP with PyTorch-style names (0.weight, 0.bias, 2.weight, …).</summary>
    /// <param name="sizes">Layer widths, input first, e.g. [4, 8, 3].</param>
    /// <param name="activation">relu, tanh, gelu or sigmoid.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public static Sequential Mlp(int[] sizes, string activation, long seed, ScalarType dtype = ScalarType.Float64)
    {
        torch.manual_seed(seed);
        var spec = MlpSpec.Parse($"mlp:{string.Join("-", sizes)}:{activation}");
        return spec.Build(dtype);
    }

    /// <summary>Seeded Gaussian blobs: n points in d dimensions, one blob per class (labels Int64).</summary>
    public static (Tensor X, Tensor Y) Blobs(int n, int d, int classes, long seed, double spread = 1.0, ScalarType dtype = ScalarType.Float64)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        var centres = randn(classes, d, dtype: dtype, generator: g) * 3;
        var y = arange(n, dtype: ScalarType.Int64) % classes;
        var x = centres.index_select(0, y) + spread * randn(n, d, dtype: dtype, generator: g);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }
}
