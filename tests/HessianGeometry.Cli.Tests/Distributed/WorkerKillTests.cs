using System.Diagnostics;
using Xunit.Abstractions;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// A worker process killed (SIGKILL) in the middle of a Lanczos solve through <c>analyze --cluster</c>: the run either
/// completes with the numbers of the local analysis (the product was retried elsewhere) or fails with exit 1 and an
/// error naming the dead worker's shard — never a hang, never a report with a partial sum.
/// </summary>
[Collection(WorkerProcessTests.Name)]
public sealed class WorkerKillTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// Samples: enough that each product takes long enough for the solve to last seconds (the kill must land inside it);
    /// odd, so the two shards differ in size (20,000 and 20,001).
    /// </summary>
    private const int Samples = 120_001;

    /// <summary>From the kill to the client's exit: a dead worker's connection drops at once; --product-timeout bounds the rest.</summary>
    private static readonly TimeSpan ExitAfterKill = TimeSpan.FromMinutes(3);

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void KillingAWorkerMidSolve_CompletesWithTheSameNumbers_OrFailsNamingTheShard()
    {
        var problem = ClusterProblem.Write(temp.Path, Samples, seed: 8);
        string[] analysis = ["--arch", ClusterProblem.Arch, "--solver", "lanczos", "--top", "10", "--seed", "1"];
        var clusterOut = temp.File("cluster");
        var clock = Stopwatch.StartNew();
        using var cluster = LocalCluster.Start(problem, count: 2);
        output.WriteLine($"workers ready after {clock.Elapsed.TotalSeconds:F1} s");
        using var client = CliProcess.Start("analyze --cluster",
            ["analyze", "--model", problem.Model, "--cluster", cluster.Gateways, .. analysis, "--product-timeout", "60", "--out", clusterOut]);

        // The progress line of the solve's stage; then let a few products pass so the kill lands between or inside them
        // (briefly: on a quiet machine the whole solve takes about a second).
        Assert.True(client.WaitForLine("eigenpairs", AnalyzeOnClusterTests.AnalysisTimeout), $"the solve never started.\n{client.Output}\n{cluster.Output}");
        Thread.Sleep(TimeSpan.FromMilliseconds(150));
        Assert.False(client.HasExited, $"the solve finished before the worker was killed; make the problem larger.\n{client.Output}");
        var victim = cluster.Workers[1];
        victim.Kill();
        clock.Restart();

        Assert.True(client.WaitForExit(ExitAfterKill), $"analyze --cluster still runs {ExitAfterKill} after the worker died (a hang).\n{client.Output}");
        output.WriteLine($"client exited with {client.ExitCode} {clock.Elapsed.TotalSeconds:F1} s after the kill\n{client.Output}");
        if (client.ExitCode == 0)
        {
            // Completed: the dead worker's shard was served elsewhere (the transport note counts the retries), and the
            // numbers must be the local analysis's, as if nothing had happened.
            Assert.Contains("retried on another worker", client.Output, StringComparison.Ordinal);
            var localOut = temp.File("local");
            Assert.Equal(0, Program.Main(["analyze", "--model", problem.Model, "--data", problem.Data, "--x-key", "x", "--y-key", "y", .. analysis, "--out", localOut]));
            using var local = AnalyzeOnClusterTests.Report(localOut);
            using var remote = AnalyzeOnClusterTests.Report(clusterOut);
            ReportComparison.AssertSameAnalysis(local, remote, 1e-12);
            return;
        }
        Assert.True(client.ExitCode == 1, $"exit code {client.ExitCode} (expected 0 or 1) {clock.Elapsed.TotalSeconds:F0} s after the kill.\n{client.Output}");
        Assert.Contains("cluster error:", client.Output, StringComparison.Ordinal);
        Assert.Contains("shard 1", client.Output, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(clusterOut, "report.json")), "a failed cluster analysis must not leave a report");
    }
}
