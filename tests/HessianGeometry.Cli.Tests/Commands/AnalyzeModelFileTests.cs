using System.Text.Json;
using HessianGeometry.Cli.Loading;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary>
/// <c>analyze</c> on models exported by PyTorch (TorchScript archives and torch.save state-dict pickles), checked
/// against the float64 references written by <c>generate_model_fixtures.py</c>.
/// </summary>
public sealed class AnalyzeModelFileTests : IDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "fixtures", "models");
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static string Fixture(string name) => Path.Combine(Models, name);

    private (int Code, JsonDocument? Report, string Markdown) Analyze(string outName, params string[] args)
    {
        var outDir = temp.File(outName);
        var code = Program.Main(["analyze", .. args, "--out", outDir]);
        var json = Path.Combine(outDir, "report.json");
        return File.Exists(json)
            ? (code, JsonDocument.Parse(File.ReadAllText(json)), File.ReadAllText(Path.Combine(outDir, "report.md")))
            : (code, null, string.Empty);
    }

    private static string[] Data(string model, string data) =>
        ["--model", Fixture(model), "--data", Fixture(data), "--x-key", "x", "--y-key", "y"];

    private static double[] Eigenvalues(JsonDocument report) =>
        report.RootElement.GetProperty("eigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static double[] ReferenceTop(string model, bool float32 = false)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture($"{model}_reference.json")));
        var root = float32 ? doc.RootElement.GetProperty("float32") : doc.RootElement;
        return root.GetProperty("eigenvalues_top10").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    private static void AssertRelativelyClose(double[] expected, double[] actual, double rtol)
    {
        for (var i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= rtol * Math.Abs(expected[i]), $"λ_{i + 1}: {actual[i]} vs reference {expected[i]} (rtol {rtol})");
    }

    [Theory]
    [InlineData("residual_cnn", "residual_cnn_data.safetensors")]
    [InlineData("attention", "attention_data.safetensors")]
    public void TorchScriptFile_WithoutArch_TopEigenvaluesMatchThePyTorchReference(string model, string data)
    {
        var (code, report, _) = Analyze(model, [.. Data($"{model}.pt", data), "--solver", "lanczos", "--top", "5"]);
        Assert.Equal(0, code);
        using var doc = report!;
        Assert.Equal("Float64", doc.RootElement.GetProperty("precision").GetString());
        Assert.Equal(48, doc.RootElement.GetProperty("samples").GetInt64());
        var values = Eigenvalues(doc);
        Assert.Equal(5, values.Length);
        AssertRelativelyClose(ReferenceTop(model), values, 1e-6);
    }

    [Theory]
    [InlineData("float32", "Float32", 1e-4)]
    [InlineData("float64", "Float64", 1e-5)]
    public void Float32TorchScriptFile_RunsInTheRequestedPrecision(string precision, string reported, double rtol)
    {
        var (code, report, _) = Analyze(precision, [.. Data("attention_f32.pt", "attention_data.safetensors"), "--top", "3", "--precision", precision]);
        Assert.Equal(0, code);
        using var doc = report!;
        Assert.Equal(reported, doc.RootElement.GetProperty("precision").GetString());
        AssertRelativelyClose(ReferenceTop("attention", float32: true), Eigenvalues(doc), rtol);
    }

    [Fact]
    public void Int32Labels_AreConvertedToInt64_WithANote_AndGiveTheSameSpectrum()
    {
        var (code64, report64, _) = Analyze("int64", [.. Data("plain_cnn.pt", "plain_cnn_data.safetensors"), "--top", "3"]);
        var (code32, report32, markdown) = Analyze("int32", [.. Data("plain_cnn.pt", "plain_cnn_data_int32.safetensors"), "--top", "3", "--alignment"]);
        Assert.Equal(0, code64);
        Assert.Equal(0, code32);
        using (report64)
        using (report32)
            AssertRelativelyClose(Eigenvalues(report64!), Eigenvalues(report32!), 1e-12);
        Assert.Contains("## Notes", markdown, StringComparison.Ordinal);
        Assert.Contains("int32 and were converted to int64", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageInputs_WithAlignment_WriteTheAlignmentValues_ButNoDecisionRegionPlots()
    {
        var (code, report, markdown) = Analyze("image", [.. Data("plain_cnn.pt", "plain_cnn_data.safetensors"), "--top", "2", "--alignment"]);
        Assert.Equal(0, code);
        using var doc = report!;
        Assert.Equal(48, doc.RootElement.GetProperty("alignment").GetArrayLength());
        Assert.Contains("## Alignment with the decision boundary", markdown, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.File("image"), "spectrum.png")));
        Assert.Empty(Directory.GetFiles(temp.File("image"), "alignment-*.png"));
    }

    [Fact]
    public void TraceProbes_CapsTheHutchinsonBudget_AndTooFewAreRefused()
    {
        var (code, report, _) = Analyze("probes", [.. Data("attention.pt", "attention_data.safetensors"), "--top", "1", "--trace", "--trace-probes", "12"]);
        Assert.Equal(0, code);
        using (var doc = report!)
            Assert.InRange(doc.RootElement.GetProperty("traces").GetProperty("probes").GetInt32(), 2, 12);
        var (refused, none, _) = Analyze("one-probe", [.. Data("attention.pt", "attention_data.safetensors"), "--top", "1", "--trace", "--trace-probes", "1"]);
        Assert.Equal(2, refused);
        Assert.Null(none);
    }

    [Fact]
    public void TorchScriptFileSavedInTrainingMode_IsRefused_WithExitTwo_AndTheFix()
    {
        var (code, report, _) = Analyze("train", [.. Data("residual_cnn_train.pt", "residual_cnn_data.safetensors"), "--top", "2"]);
        Assert.Equal(2, code);
        Assert.Null(report);
        var ex = Assert.Throws<ArgumentException>(() => ModelLoader.Load(Fixture("residual_cnn_train.pt"), null, CPU));
        Assert.Contains("saved in training mode", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model.eval(); torch.jit.script(model).save(path)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TorchSaveStateDictPickle_WithArch_GivesTheSameSpectrumAsTheSafetensorsStateDict()
    {
        string[] rest = ["--arch", "mlp:4-8-3:tanh", "--data", Fixture("mlp_data.safetensors"), "--x-key", "x", "--y-key", "y", "--top", "4"];
        var (codePickle, pickle, markdown) = Analyze("pickle", ["--model", Fixture("mlp_state_dict.pt"), .. rest]);
        var (codeSafetensors, safetensors, _) = Analyze("safetensors", ["--model", Fixture("mlp_state_dict.safetensors"), .. rest]);
        Assert.Equal(0, codePickle);
        Assert.Equal(0, codeSafetensors);
        using (pickle)
        using (safetensors)
        {
            Assert.Equal(67, pickle!.RootElement.GetProperty("parameters").GetInt64());
            AssertRelativelyClose(Eigenvalues(safetensors!), Eigenvalues(pickle), 1e-12);
        }
        Assert.Contains("torch.save state-dict pickle", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void PickleReader_ReadsTheConvolutionalStateDict_WithItsDtypes()
    {
        using var scope = NewDisposeScope();
        var fromPickle = PyTorchPickleStateDict.Read(Fixture("plain_cnn_state_dict.pt"));
        var fromSafetensors = SafetensorsFile.Read(Fixture("plain_cnn_state_dict.safetensors"));
        Assert.Equal(fromSafetensors.Keys.Order(StringComparer.Ordinal), fromPickle.Keys.Order(StringComparer.Ordinal));
        foreach (var key in fromSafetensors.Keys)
        {
            Assert.Equal(fromSafetensors[key].DType, fromPickle[key].DType);
            Assert.True(fromSafetensors.LoadTensor(key).equal(fromPickle.LoadTensor(key)).all().item<bool>(), $"'{key}' differs");
        }
    }

    public static TheoryData<string, string[], string> Refusals => new()
    {
        { "state-dict pickle without --arch", ["--model", "mlp_state_dict.pt", "--data", "mlp_data.safetensors"], "Pass --arch" },
        { "safetensors state dict without --arch", ["--model", "mlp_state_dict.safetensors", "--data", "mlp_data.safetensors"], "Pass --arch" },
        { "TorchScript file with --arch", ["--model", "residual_cnn.pt", "--arch", "mlp:4-8-3:tanh", "--data", "residual_cnn_data.safetensors"], "Drop --arch" },
        { "pickle that does not fit --arch", ["--model", "plain_cnn_state_dict.pt", "--arch", "mlp:4-8-3:tanh", "--data", "mlp_data.safetensors"], "does not fit --arch" },
        { "inputs the TorchScript model cannot take", ["--model", "residual_cnn.pt", "--data", "attention_data.safetensors"], "cannot run on 'x'" },
        { "unknown precision", ["--model", "residual_cnn.pt", "--data", "residual_cnn_data.safetensors", "--precision", "float16"], "--precision" },
        { "missing model file", ["--model", "no_such_model.pt", "--data", "mlp_data.safetensors"], "No model file" },
        { "data file given as the model", ["--model", "mlp_data.safetensors", "--arch", "mlp:4-8-3:tanh", "--data", "mlp_data.safetensors"], "does not fit --arch" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void BadModelArguments_ExitTwo_WithAMessageNamingTheFix(string scenario, string[] args, string fragment)
    {
        var resolved = args.Select((a, i) => i > 0 && args[i - 1] is "--model" or "--data" ? Fixture(a) : a).ToArray();
        var (code, error) = CliRun.Capturing(["analyze", .. resolved, "--x-key", "x", "--y-key", "y", "--top", "2", "--out", temp.File("bad")]);
        Assert.True(code == 2, $"{scenario}: exit code {code}");
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileThatIsNoModel_ExitsTwo_SayingWhatItIs()
    {
        var text = temp.File("notes.pt");
        File.WriteAllText(text, "not a model");
        var ex = Assert.Throws<ArgumentException>(() => ModelLoader.Load(text, null, CPU));
        Assert.Contains("neither a TorchScript archive", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, Program.Main(["analyze", "--model", text, "--data", Fixture("mlp_data.safetensors"), "--x-key", "x", "--y-key", "y", "--out", temp.File("none")]));
    }

    [Theory]
    [InlineData("labels of another length", "x", "y_short")]
    [InlineData("inputs without a sample axis", "x_flat", "y")]
    [InlineData("float labels for cross-entropy", "x", "y_float")]
    public void MalformedData_IsRefusedBeforeLibtorchSeesIt(string scenario, string xKey, string yKey)
    {
        var data = temp.File("data.safetensors");
        using (var scope = NewDisposeScope())
        {
            SafetensorsWriter.Write(data, new Dictionary<string, Tensor>
            {
                ["x"] = zeros(6, 4), ["x_flat"] = zeros(6), ["y"] = zeros(6, dtype: ScalarType.Int64),
                ["y_short"] = zeros(5, dtype: ScalarType.Int64), ["y_float"] = zeros(6),
            });
        }
        var code = Program.Main(["analyze", "--model", Fixture("mlp_state_dict.pt"), "--arch", "mlp:4-8-3:tanh", "--data", data,
            "--x-key", xKey, "--y-key", yKey, "--top", "2", "--out", temp.File("malformed")]);
        Assert.True(code == 2, $"{scenario}: exit code {code}");
    }
}
