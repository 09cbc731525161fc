using System.Text.Json;
using HessianGeometry.Cli.Tests.Plotting;
using HessianGeometry.Cli.Training;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary><c>analyze --per-layer --diagonal</c>: the report's <c>layers</c> and <c>diagonal</c> fields and the per-layer traces plot.</summary>
public sealed class AnalyzePerLayerDiagonalTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("hg-cli-layers-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void PerLayerAndDiagonal_WriteLayersAndTheInlineDiagonal_FromTheTraceProbes_AndTheTracesPlot()
    {
        var (model, data) = WriteModelAndData();
        var outDir = Path.Combine(dir, "out");
        var code = Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "2",
            "--trace", "--trace-probes", "30", "--per-layer", "--diagonal", "--out", outDir]);
        Assert.Equal(0, code);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = doc.RootElement;
        var layers = root.GetProperty("layers");
        Assert.Equal(["0", "2"], layers.EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.Equal([18L, 21L], layers.EnumerateArray().Select(l => l.GetProperty("parameters").GetInt64()));
        Assert.All(layers.EnumerateArray(), l => Assert.Equal(3, l.GetProperty("eigenvalues").GetArrayLength()));
        // A tanh MLP has an exact diagonal (Hessian backpropagation): the layer traces are its block sums, and the
        // probed whole-model trace agrees with them within its standard error.
        var diagonal = root.GetProperty("diagonal");
        Assert.Equal("exact", diagonal.GetProperty("method").GetString());
        Assert.Equal(39, diagonal.GetProperty("values").GetArrayLength());
        var exactTrace = diagonal.GetProperty("values").EnumerateArray().Sum(v => v.GetDouble());
        var layerTraces = layers.EnumerateArray().Sum(l => l.GetProperty("trace").GetDouble());
        Assert.Equal(exactTrace, layerTraces, 1e-9 * Math.Abs(layerTraces) + 1e-12);
        Assert.All(layers.EnumerateArray(), l => Assert.Equal(0, l.GetProperty("traceStandardError").GetDouble()));
        var trace = root.GetProperty("trace").GetDouble();
        var traceError = root.GetProperty("traceStandardError").GetDouble();
        Assert.True(Math.Abs(trace - exactTrace) <= 4 * traceError + 1e-12, $"probed tr H {trace} ± {traceError} vs exact {exactTrace}");
        // The layers and the diagonal spend no products beyond the trace's: only the layer eigenvalues do.
        var hvps = root.GetProperty("hvpCounts");
        Assert.Equal(30, hvps.GetProperty("trace").GetInt64());
        Assert.False(hvps.TryGetProperty("layer-probes", out _));

        var plot = Path.Combine(outDir, "layer-traces.png");
        Assert.True(new FileInfo(plot).Length > 1000);
        Assert.Equal((900, 650), PngImage.Dimensions(plot));
        Assert.False(File.Exists(Path.Combine(outDir, "diagonal.safetensors")));
        var markdown = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("## Per layer", markdown, StringComparison.Ordinal);
        Assert.Contains("## Hessian diagonal", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutTheFlags_TheReportHasNoLayersOrDiagonal_AndNoTracesPlot()
    {
        var (model, data) = WriteModelAndData();
        var outDir = Path.Combine(dir, "plain");
        Assert.Equal(0, Program.Main(["analyze", "--model", model, "--arch", "mlp:2-6-3:tanh", "--data", data, "--top", "2", "--out", outDir]));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("layers").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("diagonal").ValueKind);
        Assert.False(File.Exists(Path.Combine(outDir, "layer-traces.png")));
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
