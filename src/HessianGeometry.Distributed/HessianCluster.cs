namespace HessianGeometry.Distributed;

/// <summary>
/// A client connection to the workers: which shards they hold (checked to cover the data exactly once), and the
/// transport counters of everything summed over them.
/// </summary>
public sealed class HessianCluster : IAsyncDisposable
{
    private HessianCluster()
    {
    }

    /// <summary>Connects, lists the workers and checks that their shards cover the data exactly once with one model.</summary>
    /// <exception cref="ClusterShardException">A gap or overlap in the shards, or workers with different models or data.</exception>
    public static Task<HessianCluster> ConnectAsync(ClusterOptions options, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>The shards in index order (by first sample).</summary>
    public IReadOnlyList<ShardInfo> Shards => throw new NotImplementedException();

    /// <summary>Payload bytes, products, chunks and retries so far.</summary>
    public TransportStatistics Transport => throw new NotImplementedException();

    /// <summary>Closes the client connection (the workers keep running).</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
