using HessianGeometry.Interop;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// A small classification problem on disk, as workers read it: a float32 MLP state dict (safetensors + mlp: spec) and a
/// safetensors data file; plus the client's own copy of the model and the data, loaded the way a client loads them.
/// </summary>
internal sealed class TestProblem : IDisposable
{
    public const string Arch = "mlp:4-5-3:tanh";

    public TestProblem(int samples = 23, long seed = 7, string arch = Arch)
    {
        ModelArch = arch;
        Directory = Path.Combine(Path.GetTempPath(), "hg-dist-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        ModelPath = Path.Combine(Directory, "model.safetensors");
        DataPath = Path.Combine(Directory, "data.safetensors");
        using (var scope = NewDisposeScope())
        {
            manual_seed(seed);
            var net = MlpSpec.Parse(arch).Build(ScalarType.Float32);
            SafetensorsWriter.Write(ModelPath, net.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
            var gen = new TorchSharp.torch.Generator((ulong)seed);
            var x = randn(samples, 4, generator: gen);
            var y = randint(0, 3, samples, generator: gen).to(ScalarType.Int64);
            SafetensorsWriter.Write(DataPath, new Dictionary<string, Tensor> { ["x"] = x, ["y"] = y });
        }
        Model = LoadModel(ModelPath, arch);
        var file = SafetensorsFile.Read(DataPath);
        X = file.LoadTensor("x").DetachFromDisposeScope();
        Y = file.LoadTensor("y").DetachFromDisposeScope();
    }

    /// <summary>The model's <c>mlp:</c> spec (<see cref="Arch"/> unless given).</summary>
    public string ModelArch { get; }

    public string Directory { get; }

    public string ModelPath { get; }

    public string DataPath { get; }

    public nn.Module<Tensor, Tensor> Model { get; }

    public Tensor X { get; }

    public Tensor Y { get; }

    public static nn.Module<Tensor, Tensor> LoadModel(string path, string arch = Arch)
    {
        var net = MlpSpec.Parse(arch).Build(ScalarType.Float32);
        StateDictLoader.Load(net, SafetensorsFile.Read(path));
        net.eval();
        return net;
    }

    /// <summary>Writes a second model file with different weights (for the hash-mismatch tests).</summary>
    public string WriteOtherModel()
    {
        var path = Path.Combine(Directory, "other.safetensors");
        using var scope = NewDisposeScope();
        manual_seed(99);
        var net = MlpSpec.Parse(Arch).Build(ScalarType.Float32);
        SafetensorsWriter.Write(path, net.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        return path;
    }

    public void Dispose()
    {
        Model.Dispose();
        X.Dispose();
        Y.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
