using System.Text.Json;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary>
/// <c>analyze --loss bce</c>: a one-logit binary classifier trained with BCEWithLogits in PyTorch
/// (fixtures/generate_binary_fixture.py) is analysed as the two-class logits [0, f]; its spectrum matches PyTorch's dense
/// Hessian; int64 or float 0/1 labels are accepted; other labels, multi-logit models and --cluster exit 2.
/// </summary>
public sealed class AnalyzeBinaryLogitTests : IDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "fixtures", "models");
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static string Fixture(string name) => Path.Combine(Models, name);

    private (int Code, string Error) Run(string outName, params string[] args) => CliRun.Capturing(["analyze", .. args, "--out", temp.File(outName)]);

    [Theory]
    [InlineData("y")]
    [InlineData("y_float")]
    public void OneLogitClassifier_TopEigenvaluesMatchPyTorch_WithIntegerOrFloatLabels(string yKey)
    {
        var (code, error) = Run(yKey, "--model", Fixture("binary_mlp.pt"), "--data", Fixture("binary_mlp_data.safetensors"), "--x-key", "x", "--y-key", yKey,
            "--loss", "bce", "--top", "3", "--alignment", "--margin");
        Assert.True(code == 0, error);
        var outDir = temp.File(yKey);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixture("binary_mlp_reference.json")));
        var top = reference.RootElement.GetProperty("eigenvalues_top10").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var values = report.RootElement.GetProperty("eigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(values[i] - top[i]) <= 1e-8 * top[0], $"λ{i + 1}: {values[i]} vs PyTorch {top[i]}");
        Assert.Equal(reference.RootElement.GetProperty("loss").GetDouble(), report.RootElement.GetProperty("loss").GetDouble(), 1e-14);
        Assert.True(report.RootElement.GetProperty("margin").GetDouble() > 0);
        Assert.Contains("BCEWithLogits(f, y) exactly", File.ReadAllText(Path.Combine(outDir, "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void LabelsOtherThanZeroAndOne_ExitTwo_SayingWhy()
    {
        var (code, error) = Run("labels", "--model", Fixture("binary_mlp.pt"), "--data", Fixture("token_cnn_data.safetensors"), "--x-key", "ids", "--y-key", "y", "--loss", "bce", "--top", "2");
        Assert.Equal(2, code);
        Assert.Contains("exactly 0 or 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelWithFourLogits_ExitsTwo_SayingItNeedsOneLogit()
    {
        var data = temp.File("parity.safetensors");
        using (var scope = NewDisposeScope())
        {
            var file = SafetensorsFile.Read(Fixture("token_cnn_data.safetensors"));
            SafetensorsWriter.Write(data, new Dictionary<string, Tensor> { ["ids"] = file.LoadTensor("ids"), ["y"] = file.LoadTensor("y").remainder(2) });
        }
        var (code, error) = Run("four", "--model", Fixture("token_cnn.pt"), "--data", data, "--x-key", "ids", "--y-key", "y", "--loss", "bce", "--top", "2");
        Assert.Equal(2, code);
        Assert.Contains("one logit per sample", error, StringComparison.Ordinal);
        Assert.Contains("--loss ce", error, StringComparison.Ordinal);
    }

    [Fact]
    public void BinaryLoss_OnACluster_ExitsTwo_BeforeConnecting()
    {
        var (code, error) = Run("cluster", "--model", Fixture("binary_mlp.pt"), "--cluster", "127.0.0.1:1", "--loss", "bce", "--top", "2");
        Assert.Equal(2, code);
        Assert.Contains("--loss bce runs in one process", error, StringComparison.Ordinal);
    }
}
