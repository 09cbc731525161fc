using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Xunit;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// Workers on Orleans' in-process test cluster host (several silos in one process, the host's membership and ports), each
/// silo configured by its instance to serve a different shard of one data file: the analysis equals the single-process
/// analysis in float64 to 1e-12, also when a silo is stopped in the middle of the run.
/// </summary>
public class TestClusterHostTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public async Task AnalyzeMinimum_OnTestClusterSilosWithOneShardEach_EqualsSingleProcess()
    {
        using var problem = new TestProblem();
        await using var host = await ShardTestCluster.StartAsync(problem, ["0/3", "1/3", "2/3"]);
        var hosts = await host.Host.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(3, hosts.Count);
        await using var cluster = await host.ConnectAsync();

        // Shard i runs on the test host's silo i: the per-silo configuration reached each silo.
        Assert.Equal(3, cluster.Shards.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(new ShardSpec(i, 3), cluster.Shards[i].Shard);
            Assert.Equal(host.Silo(i).SiloAddress.ToParsableString(), cluster.Shards[i].Worker);
        }
        Assert.Equal(problem.X.shape[0], cluster.Shards.Sum(s => s.Length));

        var local = Build(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y)).AnalyzeMinimum();
        var remote = await Task.Run(() => Build(HessianAnalysis.For(problem.Model).OnCluster(cluster)).AnalyzeMinimum());

        Assert.Equal(3, remote.TopEigenpairs!.Eigenvalues.Length);
        Assert.NotNull(remote.Trace);
        var compared = ReportComparison.AssertEqual(local, remote, Tolerance);
        Assert.True(compared > 10, $"Only {compared} numbers compared.");
        Assert.True(cluster.Transport.Products > 0);
    }

    [Fact]
    public async Task SiloStoppedMidRun_ItsShardMovesToAnotherSilo_SameNumbers()
    {
        using var problem = new TestProblem(samples: 40);
        // Silo 1 holds shard 1/2 and is stopped mid-run; silo 0 or 2 must load shard 1/2 from the shared file.
        await using var host = await ShardTestCluster.StartAsync(problem, ["0/2", "1/2", "0/2"]);
        await using var cluster = await host.ConnectAsync();
        var stopped = host.Silo(1).SiloAddress.ToParsableString();
        Assert.Contains(stopped, cluster.Shards.Single(s => s.Shard == new ShardSpec(1, 2)).Replicas);
        var local = Build(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y)).AnalyzeMinimum();

        var run = Task.Run(() => Build(HessianAnalysis.For(problem.Model).OnCluster(cluster)).AnalyzeMinimum());
        while (cluster.Transport.Products < 5 && !run.IsCompleted)
            await Task.Delay(5);
        var productsBeforeStop = cluster.Transport.Products;
        await host.Host.StopSiloAsync(host.Silo(1));
        var remote = await run;

        Assert.True(productsBeforeStop < remote.TopEigenpairs!.OperatorApplications, "The silo was stopped after the run had finished; the test proves nothing.");
        Assert.DoesNotContain(stopped, host.Host.GetActiveSilos().Select(s => s.SiloAddress.ToParsableString()));
        ReportComparison.AssertEqual(local, remote, Tolerance);
    }

    private static HessianAnalysisBuilder Build(HessianAnalysisBuilder builder) =>
        builder
            .WithCurvature(CurvatureKind.Hessian)
            .TopEigenpairs(3, 1e-10)
            .WithTrace(new TraceOptions { ClosedForm = false, MaxProbes = 24, MinProbes = 24 })
            .Seed(11);
}
