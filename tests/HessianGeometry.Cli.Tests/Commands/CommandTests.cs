using System.Text.Json;
using HessianGeometry.Cli.Training;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

public sealed class CommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("hg-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Demo_WritesReportJsonMarkdownAndPlots_AndExitsZero()
    {
        var outDir = Path.Combine(dir, "demo");
        var code = Program.Main(["demo", "--dataset", "gauss3", "--epochs", "300", "--out", outDir, "--seed", "1"]);
        Assert.Equal(0, code);
        foreach (var file in new[] { "report.json", "report.md", "spectrum.png", "density.png", "alignment-v1.png", "alignment-v2.png" })
            Assert.True(new FileInfo(Path.Combine(outDir, file)).Length > 100, $"{file} missing or empty");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        Assert.Equal(300, doc.RootElement.GetProperty("samples").GetInt64());
        Assert.Equal(20, doc.RootElement.GetProperty("eigenvalues").GetArrayLength());
        Assert.Equal(300, doc.RootElement.GetProperty("alignment").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("margin").GetDouble() > 0);
    }

    [Fact]
    public void Analyze_ReadsSafetensorsWeightsAndData_AndWritesTheReport()
    {
        var (model, data) = WriteModelAndData();
        var outDir = Path.Combine(dir, "analyze");
        var code = Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "3", "--bottom", "1",
            "--trace", "--density", "--alignment", "--margin", "--epsilon", "auto", "--batch-size", "16", "--out", outDir]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        Assert.Equal(39, doc.RootElement.GetProperty("parameters").GetInt64());
        Assert.Equal(3, doc.RootElement.GetProperty("eigenvalues").GetArrayLength());
        Assert.Equal("random-baseline", doc.RootElement.GetProperty("epsilon").GetProperty("method").GetString());
        Assert.Equal(16, doc.RootElement.GetProperty("settings").GetProperty("batchSize").GetInt32());
        // A one-hidden-layer MLP gets exact traces in closed form, and the Markdown report says so.
        Assert.Equal("exact-closed-form", doc.RootElement.GetProperty("traceMethod").GetString());
        Assert.False(doc.RootElement.GetProperty("wolkowiczStyan").GetProperty("fromEstimates").GetBoolean());
        Assert.Contains("exact-closed-form", File.ReadAllText(Path.Combine(outDir, "report.md")));
    }

    [Fact]
    public void Analyze_WithSampleMargins_WritesTheFieldsAndTheTwoPlots()
    {
        var (model, data) = WriteModelAndData();
        var outDir = Path.Combine(dir, "sample-margins");
        var code = Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "3", "--sample-margins", "--out", outDir]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = doc.RootElement;
        var n = root.GetProperty("alignment").GetArrayLength();
        Assert.Equal(n, root.GetProperty("sampleMargins").GetArrayLength());
        Assert.Equal(n, root.GetProperty("sampleMarginClasses").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("marginAlignmentCorrelation").ValueKind);
        var curvature = root.GetProperty("boundaryCurvature");
        Assert.Equal(1, curvature.GetProperty("principal").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, curvature.GetProperty("mean").ValueKind);
        foreach (var file in new[] { "margins.png", "boundary-points.png" })
            Assert.True(new FileInfo(Path.Combine(outDir, file)).Length > 100, $"{file} missing or empty");
    }

    public static TheoryData<string, string[]> BadArguments => new()
    {
        { "missing x key", ["--x-key", "inputs"] },
        { "bad arch", ["--arch", "mlp:2-6-3:swish"] },
        { "arch input size mismatch", ["--arch", "mlp:5-6-3:tanh"] },
        { "unknown loss", ["--loss", "hinge"] },
        { "bad epsilon", ["--epsilon", "large"] },
        { "unknown solver", ["--solver", "arnoldi"] },
        { "bad device", ["--device", "tpu"] },
        { "missing model file", ["--model", "/nonexistent/model.safetensors"] },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Analyze_WithBadArgumentsOrFiles_ExitsTwo(string scenario, string[] overrides)
    {
        var (model, data) = WriteModelAndData();
        var args = new Dictionary<string, string>
        {
            ["--model"] = model, ["--arch"] = "mlp:2-6-3:tanh", ["--data"] = data, ["--top"] = "2", ["--out"] = Path.Combine(dir, "bad"),
        };
        for (var i = 0; i < overrides.Length; i += 2)
            args[overrides[i]] = overrides[i + 1];
        var code = Program.Main(["analyze", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.True(code == 2, $"{scenario}: exit code {code}");
    }

    [Theory]
    [InlineData("analyze", "--arch", "mlp:2-6-3:tanh")]
    [InlineData("demo", "--epochs", "many")]
    [InlineData("no-such-command", "--x", "1")]
    public void ParseErrors_ExitTwo(string command, string option, string value) =>
        Assert.Equal(2, Program.Main([command, option, value]));

    [Fact]
    public void Analyze_WithAMalformedSafetensorsFile_ExitsTwo()
    {
        var (_, data) = WriteModelAndData();
        var broken = Path.Combine(dir, "broken.safetensors");
        File.WriteAllBytes(broken, [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        Assert.Equal(2, Program.Main(["analyze", "--model", broken, "--arch", "mlp:2-6-3:tanh", "--data", data, "--out", Path.Combine(dir, "x")]));
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
