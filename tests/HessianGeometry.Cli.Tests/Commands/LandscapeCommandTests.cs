using System.Text.Json;
using HessianGeometry.Cli.Tests.Plotting;
using HessianGeometry.Cli.Training;
using HessianGeometry.Interop;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Commands;

/// <summary><c>landscape</c>: landscape.json fields, PNGs, every kind of direction, and bad input.</summary>
public sealed class LandscapeCommandTests : IDisposable
{
    private const string Arch = "mlp:2-6-3:tanh";
    private readonly string dir = Directory.CreateTempSubdirectory("hg-landscape-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Eigen1D_WritesTheJsonFieldsAndACurve()
    {
        var (doc, outDir) = Run("eigen", ["--steps", "9", "--span", "0.5"]);
        var root = doc.RootElement;
        Assert.Equal("eigenvector", root.GetProperty("kind").GetString());
        Assert.Equal(["v1"], root.GetProperty("directions").EnumerateArray().Select(e => e.GetString()));
        var axis = root.GetProperty("coordinates")[0].EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(9, axis.Length);
        Assert.Equal(-0.5, axis[0]);
        Assert.Equal(0.0, axis[4]);
        Assert.Equal(0.5, axis[8]);
        var loss = root.GetProperty("loss").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(9, loss.Length);
        Assert.Equal(loss[4], root.GetProperty("centerLoss").GetDouble());
        Assert.Equal(9, root.GetProperty("accuracy").GetArrayLength());
        Assert.Equal(1, root.GetProperty("eigenvalues").GetArrayLength());
        Assert.True(root.GetProperty("eigenvalues")[0].GetDouble() > 0);
        var q = root.GetProperty("quadraticModel")[0];
        Assert.Equal(9, q.GetProperty("quadratic").GetArrayLength());
        Assert.Equal(5, q.GetProperty("quarticCoefficients").GetArrayLength());
        AssertPng(Path.Combine(outDir, "landscape.png"));
    }

    [Fact]
    public void EigenOfTheGgn_NamesTheMatrix_AndUsesTheHessiansCurvatureAlongEachDirection()
    {
        var (hessian, _) = Run("eigen", ["--steps", "5"], "hessian");
        var (doc, outDir) = Run("eigen", ["--steps", "5", "--dims", "2", "--curvature", "ggn"], "ggn");
        var root = doc.RootElement;
        Assert.Equal(["ggn-v1", "ggn-v2"], root.GetProperty("directions").EnumerateArray().Select(e => e.GetString()));
        var notes = root.GetProperty("notes").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Contains(notes, n => n.Contains("top eigenvectors of the GGN", StringComparison.Ordinal) && n.Contains("vᵀHv", StringComparison.Ordinal));
        // vᵀHv along the GGN's top eigenvector cannot exceed the Hessian's largest eigenvalue.
        Assert.True(root.GetProperty("eigenvalues")[0].GetDouble() <= hessian.RootElement.GetProperty("eigenvalues")[0].GetDouble() * (1 + 1e-9));
        AssertPng(Path.Combine(outDir, "landscape-ggn-v1.png"));
    }

    [Fact]
    public void Random2D_WritesANestedGridAndASurface_AndTheSameSeedRepeatsIt()
    {
        var (doc, outDir) = Run("random", ["--dims", "2", "--steps", "5", "--seed", "3"], "first");
        var loss = doc.RootElement.GetProperty("loss");
        Assert.Equal(5, loss.GetArrayLength());
        Assert.All(loss.EnumerateArray(), row => Assert.Equal(5, row.GetArrayLength()));
        Assert.Equal(loss[2][2].GetDouble(), doc.RootElement.GetProperty("centerLoss").GetDouble());
        Assert.Equal(2, doc.RootElement.GetProperty("filterNormalizedNorms").GetArrayLength());
        Assert.False(doc.RootElement.TryGetProperty("eigenvalues", out _));
        AssertPng(Path.Combine(outDir, "landscape.png"));
        var (again, _) = Run("random", ["--dims", "2", "--steps", "5", "--seed", "3"], "second");
        Assert.Equal(loss.GetRawText(), again.RootElement.GetProperty("loss").GetRawText());
    }

    [Fact]
    public void Interpolate_SegmentAndPlane_EvaluateTheModelsThemselves()
    {
        var other = WriteModel("b.safetensors", seed: 5);
        var third = WriteModel("c.safetensors", seed: 6);
        var (segment, outDir) = Run("interpolate", ["--other", other, "--steps", "11", "--span", "0.5"], "segment");
        var axis = segment.RootElement.GetProperty("coordinates")[0].EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Contains(0.0, axis);
        Assert.Contains(1.0, axis);
        var anchors = segment.RootElement.GetProperty("anchors");
        Assert.Equal("model B", anchors[1].GetProperty("name").GetString());
        var lossB = anchors[1].GetProperty("loss").GetDouble();
        var atB = segment.RootElement.GetProperty("loss")[Array.IndexOf(axis, 1.0)].GetDouble();
        Assert.Equal(lossB, atB, 1e-12);
        AssertPng(Path.Combine(outDir, "landscape.png"));

        var (plane, planeDir) = Run("interpolate", ["--other", other, "--third", third, "--steps", "5"], "plane");
        Assert.Equal("plane", plane.RootElement.GetProperty("kind").GetString());
        Assert.Equal(3, plane.RootElement.GetProperty("anchors").GetArrayLength());
        Assert.Equal(lossB, plane.RootElement.GetProperty("anchors")[1].GetProperty("loss").GetDouble(), 1e-12);
        AssertPng(Path.Combine(planeDir, "landscape.png"));
    }

    [Fact]
    public void Pca_OfCheckpoints_ProjectsTheTrajectory()
    {
        var checkpoints = Path.Combine(dir, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        for (var t = 0; t < 4; t++)
            WriteModel(Path.Combine("checkpoints", $"epoch{t}.safetensors"), seed: 10 + t);
        var (doc, outDir) = Run("pca", ["--checkpoints", checkpoints, "--dims", "2", "--steps", "5"]);
        Assert.Equal(["PC1", "PC2"], doc.RootElement.GetProperty("directions").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, doc.RootElement.GetProperty("explainedVariance").GetArrayLength());
        Assert.Equal(5, doc.RootElement.GetProperty("anchors").GetArrayLength());
        AssertPng(Path.Combine(outDir, "landscape.png"));
    }

    public static TheoryData<string, string[]> BadArguments => new()
    {
        { "unknown directions", ["--directions", "hessian"] },
        { "even steps", ["--directions", "random", "--steps", "10"] },
        { "dims 3", ["--directions", "random", "--dims", "3"] },
        { "interpolate without --other", ["--directions", "interpolate"] },
        { "plane without --third", ["--directions", "interpolate", "--dims", "2", "--other", "OTHER"] },
        { "--other with eigen", ["--directions", "eigen", "--other", "OTHER"] },
        { "pca without checkpoints", ["--directions", "pca"] },
        { "missing checkpoint file", ["--directions", "pca", "--checkpoints", "/nonexistent/a.safetensors"] },
        { "other architecture", ["--directions", "interpolate", "--other", "WIDE"] },
        { "negative span", ["--directions", "random", "--span", "-1"] },
        { "--curvature with random directions", ["--directions", "random", "--curvature", "ggn"] },
        { "unknown curvature", ["--directions", "eigen", "--curvature", "laplacian"] },
        { "no Fisher samples", ["--directions", "eigen", "--curvature", "fisher", "--fisher-samples", "0"] },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void BadInput_ExitsTwo(string scenario, string[] overrides)
    {
        var (model, data) = WriteModelAndData();
        var other = WriteModel("other.safetensors", seed: 4);
        var wide = Path.Combine(dir, "wide.safetensors");
        using (var scope = NewDisposeScope())
        {
            var net = MlpFactory.Create([2, 7, 3], "tanh", seed: 2);
            SafetensorsWriter.Write(wide, net.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        }
        var args = new List<string> { "landscape", "--model", model, "--arch", Arch, "--data", data, "--out", Path.Combine(dir, "bad") };
        args.AddRange(overrides.Select(o => o == "OTHER" ? other : o == "WIDE" ? wide : o));
        var code = Program.Main([.. args]);
        Assert.True(code == 2, $"{scenario}: exit code {code}");
    }

    private (JsonDocument Doc, string OutDir) Run(string directions, string[] extra, string name = "out")
    {
        var (model, data) = WriteModelAndData();
        var outDir = Path.Combine(dir, name);
        var code = Program.Main(["landscape", "--model", model, "--arch", Arch, "--data", data, "--directions", directions, "--out", outDir, .. extra]);
        Assert.Equal(0, code);
        return (JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "landscape.json"))), outDir);
    }

    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        Assert.Equal((900, 650), PngImage.Dimensions(path));
        Assert.True(PngImage.DistinctColours(path) > 10, "the plot has content");
    }

    private string WriteModel(string name, long seed)
    {
        using var scope = NewDisposeScope();
        var net = MlpFactory.Create([2, 6, 3], "tanh", seed: seed);
        var path = Path.Combine(dir, name);
        SafetensorsWriter.Write(path, net.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        return path;
    }

    private (string Model, string Data) WriteModelAndData()
    {
        using var scope = NewDisposeScope();
        var modelPath = WriteModel("model.safetensors", seed: 2);
        var x = randn(48, 2, generator: new Generator(3));
        var y = arange(48, dtype: ScalarType.Int64) % 3;
        var dataPath = Path.Combine(dir, "data.safetensors");
        SafetensorsWriter.Write(dataPath, new Dictionary<string, Tensor> { ["x_train"] = x, ["y_train"] = y });
        return (modelPath, dataPath);
    }
}
