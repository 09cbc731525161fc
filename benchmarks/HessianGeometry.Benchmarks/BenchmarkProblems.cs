using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks;

/// <summary>The reference problems the targets in docs/benchmarks.md are stated for.</summary>
public static class BenchmarkProblems
{
    /// <summary>Parses "4-32-32-3/512" into layer sizes and a sample count.</summary>
    public static (int[] Sizes, int Samples) Parse(string problem)
    {
        var parts = problem.Split('/');
        return (parts[0].Split('-').Select(int.Parse).ToArray(), int.Parse(parts[1]));
    }

    /// <summary>A seeded float32 MLP (tanh) and Gaussian-blob data for the named problem.</summary>
    public static (TorchSharp.Modules.Sequential Model, Tensor X, Tensor Y) Create(string problem, ScalarType dtype = ScalarType.Float32)
    {
        var (sizes, n) = Parse(problem);
        var model = TinyModels.Mlp(sizes, "tanh", seed: 0, dtype: dtype);
        var (x, y) = TinyModels.Blobs(n, sizes[0], sizes[^1], seed: 1, dtype: dtype);
        return (model, x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }
}
