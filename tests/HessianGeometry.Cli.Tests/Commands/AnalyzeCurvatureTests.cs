using System.Text.Json;
using HessianGeometry.Interop;
using Xunit;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary>
/// <c>analyze --curvature</c> and <c>--decomposition</c> on the plain CNN fixture, against the explicit-Jacobian GGN
/// eigenvalues (fixtures/ggn) and PyTorch's Hessian eigenvalues (fixtures/models).
/// </summary>
public sealed class AnalyzeCurvatureTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures");
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static string[] PlainCnn() =>
    [
        "--model", Path.Combine(Fixtures, "models", "plain_cnn.pt"), "--data", Path.Combine(Fixtures, "models", "plain_cnn_data.safetensors"),
        "--x-key", "x", "--y-key", "y",
    ];

    private static double[] Array(JsonElement element) => element.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    [Fact]
    public void CurvatureGgn_WithDecomposition_MatchesTheReferences_AndWritesThePlot()
    {
        var outDir = temp.File("ggn");
        var code = Program.Main(["analyze", .. PlainCnn(), "--top", "3", "--curvature", "ggn", "--decomposition", "--out", outDir]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = doc.RootElement;
        Assert.Equal("ggn", root.GetProperty("curvature").GetString());
        using var scope = TorchSharp.torch.NewDisposeScope();
        var ggnTop = SafetensorsFile.Read(Path.Combine(Fixtures, "ggn", "plain_cnn_ggn.safetensors")).LoadTensor("ce.top5").data<double>().ToArray();
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "models", "plain_cnn_reference.json")));
        var hessianTop = Array(reference.RootElement.GetProperty("eigenvalues_top10"));
        var eigenvalues = Array(root.GetProperty("eigenvalues"));
        var decomposition = root.GetProperty("decomposition");
        var ggn = Array(decomposition.GetProperty("ggnEigenvalues"));
        var hessian = Array(decomposition.GetProperty("hessianEigenvalues"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ggnTop[i], eigenvalues[i], 1e-6 * ggnTop[0]);
            Assert.Equal(ggnTop[i], ggn[i], 1e-6 * ggnTop[0]);
            Assert.Equal(hessianTop[i], hessian[i], 1e-6 * hessianTop[0]);
        }
        var traces = decomposition.GetProperty("traces");
        Assert.Equal(traces.GetProperty("hessian").GetDouble(), traces.GetProperty("ggn").GetDouble() + traces.GetProperty("residual").GetDouble(), 1e-9);
        Assert.Equal(3, decomposition.GetProperty("subspaceOverlap").GetProperty("cosines").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(outDir, "decomposition.png")));
    }

    [Theory]
    [InlineData("hessain", "1", "hessian, ggn, fisher or empirical-fisher")]
    [InlineData("fisher", "0", "--fisher-samples")]
    public void BadCurvatureArguments_ExitTwo_NamingTheFix(string curvature, string samples, string fragment)
    {
        var (code, error) = CliRun.Capturing(["analyze", .. PlainCnn(), "--top", "1", "--curvature", curvature, "--fisher-samples", samples, "--out", temp.File("bad")]);
        Assert.Equal(2, code);
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }
}
