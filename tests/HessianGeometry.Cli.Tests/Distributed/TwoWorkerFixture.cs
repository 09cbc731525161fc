namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>Two worker processes serving shards 0/2 and 1/2 of a 600-sample problem, shared by the tests of one class.</summary>
public sealed class TwoWorkerFixture : IDisposable
{
    private readonly TempFolder folder = new();

    public TwoWorkerFixture()
    {
        // 600 = 300 + 300; the kill test uses an uneven split.
        Problem = ClusterProblem.Write(folder.Path, samples: 600, seed: 5);
        Cluster = LocalCluster.Start(Problem, count: 2);
    }

    internal ClusterProblem Problem { get; }

    internal LocalCluster Cluster { get; }

    internal string Folder => folder.Path;

    public void Dispose()
    {
        Cluster.Dispose();
        folder.Dispose();
    }
}
