using HessianGeometry.Cli.Training;
using HessianGeometry.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// A seeded 4-16-3 tanh MLP (131 parameters, float32 like a PyTorch export) and n labelled points in three blobs, written
/// as safetensors files the workers and the local analysis both read: the data-heavy, few-parameter case the cluster is for.
/// </summary>
internal sealed record ClusterProblem(string Model, string Data, int Samples)
{
    public const string Arch = "mlp:4-16-3:tanh";

    /// <summary>Writes model.safetensors (weights seeded by <paramref name="seed"/>) and data.safetensors (keys x, y) into <paramref name="folder"/>.</summary>
    public static ClusterProblem Write(string folder, int samples, int seed, string modelName = "model.safetensors")
    {
        using var scope = NewDisposeScope();
        var model = Path.Combine(folder, modelName);
        using (var net = MlpFactory.Create([4, 16, 3], "tanh", seed))
            SafetensorsWriter.Write(model, net.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        var generator = new Generator((ulong)seed + 1);
        var y = arange(samples, dtype: ScalarType.Int64) % 3;
        var centres = tensor(new float[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 1 } });
        var x = centres.index_select(0, y) + 0.7f * randn(samples, 4, generator: generator);
        var data = Path.Combine(folder, "data.safetensors");
        SafetensorsWriter.Write(data, new Dictionary<string, Tensor> { ["x"] = x.contiguous(), ["y"] = y });
        return new ClusterProblem(model, data, samples);
    }

    /// <summary>The same problem with other weights (a client whose model the workers do not hold).</summary>
    public string OtherModel(string folder, int seed)
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(folder, $"other-model-{seed}.safetensors");
        using var net = MlpFactory.Create([4, 16, 3], "tanh", seed);
        SafetensorsWriter.Write(path, net.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        return path;
    }
}
