using System.Text.Json;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// <c>analyze --cluster</c> against two real worker processes on localhost: the report equals the local analysis of the
/// same model and data file to 1e-12 (float64), and a client whose weights the workers do not hold is refused.
/// </summary>
[Collection(WorkerProcessTests.Name)]
public sealed class AnalyzeOnClusterTests(TwoWorkerFixture fixture) : IClassFixture<TwoWorkerFixture>, IDisposable
{
    /// <summary>An analysis through the cluster: connect, a Lanczos solve of a few pairs, the report. Minutes only under heavy load.</summary>
    internal static readonly TimeSpan AnalysisTimeout = TimeSpan.FromMinutes(6);

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Lanczos_OnTwoWorkerProcesses_EqualsTheLocalAnalysis_To1e12()
    {
        string[] analysis = ["--arch", ClusterProblem.Arch, "--solver", "lanczos", "--top", "4", "--bottom", "1", "--seed", "3", "--trace"];
        var localOut = temp.File("local");
        Assert.Equal(0, Program.Main(["analyze", "--model", fixture.Problem.Model, "--data", fixture.Problem.Data, "--x-key", "x", "--y-key", "y",
            .. analysis, "--out", localOut]));

        var clusterOut = temp.File("cluster");
        using var client = CliProcess.Start("analyze --cluster",
            ["analyze", "--model", fixture.Problem.Model, "--cluster", fixture.Cluster.Gateways, .. analysis, "--out", clusterOut]);
        Assert.True(client.WaitForExit(AnalysisTimeout), $"analyze --cluster did not finish within {AnalysisTimeout}.\n{client.Output}\n{fixture.Cluster.Output}");
        Assert.True(client.ExitCode == 0, $"exit code {client.ExitCode}\n{client.Output}\n{fixture.Cluster.Output}");

        using var local = Report(localOut);
        using var remote = Report(clusterOut);
        ReportComparison.AssertSameAnalysis(local, remote, 1e-12);
        Assert.Contains("bytes per product", client.Output, StringComparison.Ordinal);
        Assert.Contains("bytes per product", File.ReadAllText(Path.Combine(clusterOut, "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void AClientModelTheWorkersDoNotHold_ExitsOne_NamingTheShard()
    {
        var other = fixture.Problem.OtherModel(fixture.Folder, seed: 99);
        using var client = CliProcess.Start("analyze --cluster (other model)",
            ["analyze", "--model", other, "--arch", ClusterProblem.Arch, "--cluster", fixture.Cluster.Gateways, "--top", "2", "--out", temp.File("other")]);
        Assert.True(client.WaitForExit(AnalysisTimeout), $"analyze --cluster did not finish within {AnalysisTimeout}.\n{client.Output}");
        Assert.True(client.ExitCode == 1, $"exit code {client.ExitCode}\n{client.Output}");
        Assert.Contains("shard", client.Output, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(temp.File("other"), "report.json")));
    }

    internal static JsonDocument Report(string folder) => JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
}
