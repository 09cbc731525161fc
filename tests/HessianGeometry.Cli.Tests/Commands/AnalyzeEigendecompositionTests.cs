using System.Text.Json;
using HessianGeometry.Cli.Training;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary><c>analyze --solver exact --eigendecomposition auto|full|range</c>: the choice reaches the report, bad values exit 2.</summary>
public sealed class AnalyzeEigendecompositionTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("hg-cli-eigendecomposition-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("full", null)]
    [InlineData("auto", "< 1000")]
    public void ExactSolver_RecordsTheRequestedRoute_AndWhy(string method, string? note)
    {
        var (model, data) = WriteModelAndData();
        var outDir = Path.Combine(dir, method);
        Assert.Equal(0, Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "2",
            "--solver", "exact", "--eigendecomposition", method, "--out", outDir]));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var route = doc.RootElement.GetProperty("topEigenpairs").GetProperty("eigendecomposition");
        Assert.Equal(method, route.GetProperty("requested").GetString());
        Assert.Contains("linalg.eigh", route.GetProperty("route").GetString(), StringComparison.Ordinal);
        if (note is null)
            Assert.Equal(JsonValueKind.Null, route.GetProperty("note").ValueKind);
        else
            Assert.Contains(note, route.GetProperty("note").GetString(), StringComparison.Ordinal);
        var markdown = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("Decomposition: linalg.eigh", markdown, StringComparison.Ordinal);
        if (note is not null)
            Assert.Contains(note, markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void ForcedRange_OnASmoothNet_Fails_AndAnUnknownValue_ExitsTwo()
    {
        var (model, data) = WriteModelAndData();
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int forced, unknown;
        try
        {
            forced = Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "2",
                "--solver", "exact", "--eigendecomposition", "range", "--out", Path.Combine(dir, "range")]);
            unknown = Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "2",
                "--solver", "exact", "--eigendecomposition", "partial", "--out", Path.Combine(dir, "bad")]);
        }
        finally
        {
            Console.SetError(previous);
        }
        Assert.NotEqual(0, forced);
        Assert.Contains("range-revealing", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, unknown);
        Assert.Contains("auto, full or range", error.ToString(), StringComparison.Ordinal);
    }

    private (string Model, string Data) WriteModelAndData()
    {
        using var scope = NewDisposeScope();
        var net = MlpFactory.Create([2, 6, 3], "tanh", seed: 2);
        var modelPath = Path.Combine(dir, "model.safetensors");
        SafetensorsWriter.Write(modelPath, net.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        var x = randn(48, 2, generator: new Generator(3));
        var y = arange(48, dtype: ScalarType.Int64) % 3;
        var dataPath = Path.Combine(dir, "data.safetensors");
        SafetensorsWriter.Write(dataPath, new Dictionary<string, Tensor> { ["x_train"] = x, ["y_train"] = y });
        return (modelPath, dataPath);
    }
}
