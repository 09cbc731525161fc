using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using Xunit;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// A worker that stops in the middle of an analysis: its shard moves to a worker that can load it and the numbers are the
/// same; with no worker left the analysis fails naming the shard; cancellation stops the run and the workers' calls.
/// </summary>
public class ClusterFaultTests
{
    [Fact]
    public async Task WorkerStoppedMidRun_ShardMovesToAnotherWorker_SameNumbers()
    {
        using var problem = new TestProblem(samples: 40);
        // Worker 0 is the primary (membership); worker 1 holds shard 1/2 and is stopped mid-run, so worker 0 or 2 must
        // load shard 1/2 from the shared file and compute its part.
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2", "0/2"]);
        await using var cluster = await workers.ConnectAsync(o => o with { ProductTimeout = TimeSpan.FromSeconds(20) });
        var local = Build(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y)).AnalyzeMinimum();

        var run = Task.Run(() => Build(HessianAnalysis.For(problem.Model).OnCluster(cluster)).AnalyzeMinimum());
        while (cluster.Transport.Products < 5 && !run.IsCompleted)
            await Task.Delay(5);
        var productsBeforeStop = cluster.Transport.Products;
        await workers.StopAsync(1);
        var remote = await run;

        Assert.True(productsBeforeStop < remote.TopEigenpairs!.OperatorApplications, "The worker was stopped after the run had finished; the test proves nothing.");
        ReportComparison.AssertEqual(local, remote, 1e-12);
    }

    [Fact]
    public async Task AllWorkersGone_FailsWithTheShardNamed_NeverAPartialSum()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync(o => o with { ProductTimeout = TimeSpan.FromSeconds(5), MaxRetries = 1 });
        var plan = Build(HessianAnalysis.For(problem.Model).OnCluster(cluster)).Build();
        await workers.StopAsync(1);
        await workers.StopAsync(0);
        var ex = await Assert.ThrowsAsync<ClusterShardException>(() => Task.Run(() => plan.AnalyzeMinimum()));
        Assert.NotNull(ex.Shard);
        Assert.Contains($"shard {ex.Shard}", ex.Message);
        Assert.Contains("No partial sum", ex.Message);
    }

    [Fact]
    public async Task Cancellation_StopsTheRun_AndLeavesTheModelUnchanged()
    {
        using var problem = new TestProblem(samples: 40);
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync();
        var before = problem.Model.parameters().Select(p => p.detach().clone()).ToList();
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => HessianAnalysis.For(problem.Model).OnCluster(cluster).TopEigenpairs(5, 1e-14, 10_000).Seed(1).AnalyzeMinimum(cts.Token));
        while (cluster.Transport.Products < 3 && !run.IsCompleted)
            await Task.Delay(5);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        foreach (var (a, b) in before.Zip(problem.Model.parameters()))
            Assert.True(a.eq(b).all().item<bool>());
        // The workers are still serving after a cancelled call.
        var after = await Task.Run(() => HessianAnalysis.For(problem.Model).OnCluster(cluster).TopEigenpairs(1).AnalyzeMinimum());
        Assert.True(after.TopEigenpairs!.Converged);
    }

    private static HessianAnalysisBuilder Build(HessianAnalysisBuilder builder) =>
        builder.WithCurvature(CurvatureKind.Hessian).TopEigenpairs(3, 1e-10).Seed(5);
}
