using System.Text.Json;
using HessianGeometry.Analysis;
using HessianGeometry.Spectrum;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// Token-id inputs on a cluster: two workers serve the TorchScript text CNN of the library's fixtures (int64 ids, read by
/// workers and client with the same integer dtype) and the analysis — eigenpairs, trace, density, alignment, boundary
/// complexity — equals one process to 1e-12 and PyTorch's dense Hessian to 1e-8; the input-space margin is refused on
/// the client before any product.
/// </summary>
public class TokenIdClusterTests
{
    private static HessianAnalysisBuilder Configure(HessianAnalysisBuilder builder) =>
        builder
            .TopEigenpairs(3, 1e-10)
            .WithTrace(new TraceOptions { ClosedForm = false, MaxProbes = 16, MinProbes = 16 })
            .WithSpectralDensity(new SpectralDensityOptions { Runs = 2, Steps = 10, GridPoints = 100 })
            .WithAlignment()
            .WithBoundaryComplexity(randomDirections: 4)
            .Seed(3);

    [Fact]
    public async Task TokenIds_OnTwoWorkers_EqualOneProcess_AndPyTorch()
    {
        using var problem = TestProblem.TokenIds();
        Assert.Equal(ScalarType.Int64, problem.X.dtype);
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync();

        var local = Configure(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y)).AnalyzeMinimum();
        var remote = await Task.Run(() => Configure(HessianAnalysis.For(problem.Model).OnCluster(cluster)).AnalyzeMinimum());

        var compared = ReportComparison.AssertEqual(local, remote, 1e-12);
        Assert.True(compared > 100, $"Only {compared} numbers compared.");
        Assert.Equal(64, remote.Alignment!.Length);
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "models", "token_cnn_reference.json")));
        var top = reference.RootElement.GetProperty("eigenvalues_top10").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(remote.Eigenvalues![i] - top[i]) <= 1e-8 * top[0], $"λ{i + 1}: {remote.Eigenvalues[i]} vs PyTorch {top[i]}");
        Assert.True(cluster.Transport.GeometryCalls > 0);
    }

    [Fact]
    public async Task ATwoClassLogitsView_IsRefusedOnACluster_BecauseWorkersRunTheFilesOwnOutputs()
    {
        using var problem = TestProblem.TokenIds();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/1"]);
        await using var cluster = await workers.ConnectAsync();
        // The view has the model's parameters (and hash); without the check the workers would analyse other logits.
        var error = Assert.Throws<NotSupportedException>(() => HessianAnalysis.For(new HessianGeometry.Models.TwoClassLogits(problem.Model)).OnCluster(cluster));
        Assert.Contains("one process", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, cluster.Transport.Products);
    }

    [Fact]
    public async Task TheMargin_OnTokenIds_IsRefusedOnTheClient_BeforeAnyProduct()
    {
        using var problem = TestProblem.TokenIds();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/1"]);
        await using var cluster = await workers.ConnectAsync();

        var error = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(problem.Model).OnCluster(cluster).TopEigenpairs(1).WithMargin().AnalyzeMinimum());

        Assert.Contains("token ids", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, cluster.Transport.Products);
    }
}
