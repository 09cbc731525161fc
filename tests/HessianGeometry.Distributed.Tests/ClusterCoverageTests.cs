using HessianGeometry.Analysis;
using Xunit;

namespace HessianGeometry.Distributed.Tests;

/// <summary>Shards that do not cover the data exactly once, or models that differ, are refused with a message naming the problem.</summary>
public class ClusterCoverageTests
{
    [Fact]
    public async Task Connect_WithAMissingShard_NamesTheGap()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/3", "2/3"]);
        var ex = await Assert.ThrowsAsync<ClusterShardException>(() => workers.ConnectAsync());
        // 23 samples: shard 1/3 is [7, 15).
        Assert.Contains("[7, 15)", ex.Message);
        Assert.Contains("Start a worker for the missing shard", ex.Message);
    }

    [Fact]
    public async Task Connect_WithOverlappingShards_NamesTheOverlap()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2", "1/3"]);
        var ex = await Assert.ThrowsAsync<ClusterShardException>(() => workers.ConnectAsync());
        Assert.Contains("overlap another shard", ex.Message);
        Assert.NotNull(ex.Shard);
    }

    [Fact]
    public async Task Connect_WithReplicatedShards_UsesThemAsRetryTargets()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync();
        Assert.Equal(2, cluster.Shards.Count);
        Assert.Equal(2, cluster.Shards[1].Replicas.Count);
    }

    [Fact]
    public async Task Connect_WorkersWithDifferentModels_IsRefused()
    {
        using var problem = new TestProblem();
        var other = problem.WriteOtherModel();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"], modelPerWorker: new Dictionary<int, string> { [1] = other });
        var ex = await Assert.ThrowsAsync<ClusterShardException>(() => workers.ConnectAsync());
        Assert.Contains("different model", ex.Message);
        Assert.NotNull(ex.Worker);
    }

    [Fact]
    public async Task OnCluster_WithADifferentLocalModel_IsRefused()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/1"]);
        await using var cluster = await workers.ConnectAsync();
        using var otherModel = TestProblem.LoadModel(problem.WriteOtherModel());
        var ex = Assert.Throws<ClusterShardException>(() => HessianAnalysis.For(otherModel).OnCluster(cluster));
        Assert.Contains("is not the model being analysed here", ex.Message);
        Assert.Equal(new ShardSpec(0, 1), ex.Shard);
    }
}
