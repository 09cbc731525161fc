using System.Text.Json;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary>
/// <c>analyze</c> on a TorchScript model whose inputs are integer token ids (fixtures/generate_token_fixture.py): the
/// ids reach the model unconverted (int32 ids become int64, with a note), the spectrum matches PyTorch's dense Hessian,
/// and the input-space measures and MLP architectures are refused with exit 2 and the reason.
/// </summary>
public sealed class AnalyzeTokenInputTests : IDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "fixtures", "models");
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static string Fixture(string name) => Path.Combine(Models, name);

    private static double[] ReferenceTop()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture("token_cnn_reference.json")));
        return doc.RootElement.GetProperty("eigenvalues_top10").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    private (int Code, string Error) Run(string outName, params string[] args) => CliRun.Capturing(["analyze", .. args, "--out", temp.File(outName)]);

    private static string[] TokenData(string model, string idsKey) =>
        ["--model", Fixture(model), "--data", Fixture("token_cnn_data.safetensors"), "--x-key", idsKey, "--y-key", "y"];

    [Theory]
    [InlineData("token_cnn.pt", "ids", 1e-8)]
    [InlineData("token_cnn.pt", "ids_int32", 1e-8)]
    [InlineData("token_cnn_f32.pt", "ids", 1e-5)]
    public void TokenIds_TopEigenvaluesMatchPyTorch_AndAlignmentRuns(string model, string idsKey, double rtol)
    {
        var (code, error) = Run(idsKey, [.. TokenData(model, idsKey), "--top", "3", "--alignment", "--trace"]);
        Assert.True(code == 0, error);
        var outDir = temp.File(idsKey);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var values = report.RootElement.GetProperty("eigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var top = ReferenceTop();
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(values[i] - top[i]) <= rtol * top[0], $"λ{i + 1}: {values[i]} vs PyTorch {top[i]}");
        Assert.Equal(64, report.RootElement.GetProperty("alignment").GetArrayLength());
        var markdown = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Equal(idsKey == "ids_int32", markdown.Contains("int32 token ids and were converted to int64", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--margin")]
    [InlineData("--sample-margins")]
    public void InputSpaceMeasures_OnTokenIds_ExitTwo_SayingWhy(string flag)
    {
        var (code, error) = Run("margin", [.. TokenData("token_cnn.pt", "ids"), "--top", "1", flag]);
        Assert.Equal(2, code);
        Assert.Contains("integer inputs", error, StringComparison.Ordinal);
        Assert.Contains("Leave them out", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(temp.File("margin"), "report.json")));
    }

    [Fact]
    public void TokenIds_WithAnMlpArchitecture_ExitTwo_SayingWhy()
    {
        var data = temp.File("ids.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(data, new Dictionary<string, Tensor> { ["x"] = zeros(6, 4, dtype: ScalarType.Int64), ["y"] = zeros(6, dtype: ScalarType.Int64) });
        var (code, error) = Run("mlp", "--model", Fixture("mlp_state_dict.pt"), "--arch", "mlp:4-8-3:tanh", "--data", data, "--x-key", "x", "--y-key", "y", "--top", "2");
        Assert.Equal(2, code);
        Assert.Contains("integer inputs", error, StringComparison.Ordinal);
        Assert.Contains("MLP on float features", error, StringComparison.Ordinal);
    }

    [Fact]
    public void BoolInputs_AreStillRefused_NamingTheDtypesThatWork()
    {
        var data = temp.File("bool.safetensors");
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(data, new Dictionary<string, Tensor> { ["x"] = zeros(6, 4, dtype: ScalarType.Bool), ["y"] = zeros(6, dtype: ScalarType.Int64) });
        var (code, error) = Run("bool", "--model", Fixture("token_cnn.pt"), "--data", data, "--x-key", "x", "--y-key", "y", "--top", "2");
        Assert.Equal(2, code);
        Assert.Contains("token ids", error, StringComparison.Ordinal);
    }
}
