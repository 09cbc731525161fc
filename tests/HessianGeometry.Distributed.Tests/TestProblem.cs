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

    private TestProblem(string directory, string modelPath, string dataPath, nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        ModelArch = null;
        Directory = directory;
        ModelPath = modelPath;
        DataPath = dataPath;
        Model = model;
        X = x;
        Y = y;
    }

    /// <summary>
    /// The token-id fixture of the library's tests (a TorchScript text CNN on int64 ids, fixtures/generate_token_fixture.py),
    /// its ids stored as "x" so that workers read them under the default keys.
    /// </summary>
    public static TestProblem TokenIds()
    {
        var fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "models");
        var directory = Path.Combine(Path.GetTempPath(), "hg-dist-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var modelPath = Path.Combine(directory, "token_cnn.pt");
        File.Copy(Path.Combine(fixtures, "token_cnn.pt"), modelPath);
        var dataPath = Path.Combine(directory, "data.safetensors");
        var source = SafetensorsFile.Read(Path.Combine(fixtures, "token_cnn_data.safetensors"));
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(dataPath, new Dictionary<string, Tensor> { ["x"] = source.LoadTensor("ids"), ["y"] = source.LoadTensor("y") });
        var file = SafetensorsFile.Read(dataPath);
        return new TestProblem(directory, modelPath, dataPath, HessianGeometry.Models.TorchScriptModel.Load(modelPath),
            file.LoadTensor("x").DetachFromDisposeScope(), file.LoadTensor("y").DetachFromDisposeScope());
    }

    /// <summary>The model's <c>mlp:</c> spec (<see cref="Arch"/> unless given; null for a TorchScript file).</summary>
    public string? ModelArch { get; }

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
