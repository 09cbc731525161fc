namespace HessianGeometry.Distributed;

/// <summary>
/// A shard of the cluster could not deliver its part of a result: its worker died or timed out and no other worker could
/// take it over, its model or data does not match, or the shards do not cover the data exactly once. The analysis stops:
/// a sum over the other shards would be a wrong number.
/// </summary>
public sealed class ClusterShardException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterShardException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClusterShardException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the failure behind it.</summary>
    public ClusterShardException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for one shard.</summary>
    /// <param name="shard">The shard ("i/N"), or null for a cluster-wide problem (coverage).</param>
    /// <param name="worker">The worker (silo address) last tried, if any.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="innerException">The failure behind it, if any.</param>
    public ClusterShardException(ShardSpec? shard, string? worker, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Shard = shard;
        Worker = worker;
    }

    /// <summary>The shard concerned, or null when the problem is the cluster's coverage as a whole.</summary>
    public ShardSpec? Shard { get; }

    /// <summary>The worker last tried for the shard (its silo address), if any.</summary>
    public string? Worker { get; }
}
