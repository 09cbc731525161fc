using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>A small trained 2-D, 3-class problem shared by the analysis tests (2-8-3 tanh MLP, p = 51).</summary>
internal static class AnalysisFixture
{
    public static (TorchSharp.Modules.Sequential Model, Tensor X, Tensor Y) Trained(long seed = 3, int steps = 150)
    {
        var (x, y) = TinyModels.Blobs(90, 2, 3, seed, spread: 0.8);
        var model = TinyModels.Mlp([2, 8, 3], "tanh", seed);
        TinyTraining.CrossEntropyAdam(model, x, y, steps, 0.05);
        model.eval();
        return (model, x, y);
    }
}
