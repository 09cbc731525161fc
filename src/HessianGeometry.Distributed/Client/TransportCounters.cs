namespace HessianGeometry.Distributed.Client;

/// <summary>Thread-safe counters behind <see cref="TransportStatistics"/>.</summary>
internal sealed class TransportCounters
{
    private long products;
    private long shardCalls;
    private long sent;
    private long received;
    private long chunks;
    private long retries;
    private long geometryCalls;
    private long geometryShardCalls;
    private long geometrySent;
    private long geometryReceived;

    /// <summary>Counts a product with <paramref name="vectors"/> vectors (a block of k counts k, like the operator's own count).</summary>
    public void Products(int vectors) => Interlocked.Add(ref products, vectors);

    public void ShardCall() => Interlocked.Increment(ref shardCalls);

    public void Sent(long bytes)
    {
        Interlocked.Add(ref sent, bytes);
        Interlocked.Increment(ref chunks);
    }

    public void Received(long bytes)
    {
        Interlocked.Add(ref received, bytes);
        Interlocked.Increment(ref chunks);
    }

    public void Retry() => Interlocked.Increment(ref retries);

    /// <summary>Counts a geometry request (one per stage call, answered by every shard or by those holding requested rows).</summary>
    public void GeometryCall() => Interlocked.Increment(ref geometryCalls);

    /// <summary>Counts one shard's answer to a geometry request (a shard call, counted in ShardCalls too).</summary>
    public void GeometryShardCall() => Interlocked.Increment(ref geometryShardCalls);

    public void GeometrySent(long bytes)
    {
        Interlocked.Add(ref geometrySent, bytes);
        Interlocked.Increment(ref chunks);
    }

    public void GeometryReceived(long bytes)
    {
        Interlocked.Add(ref geometryReceived, bytes);
        Interlocked.Increment(ref chunks);
    }

    public TransportStatistics Snapshot() => new(
        Interlocked.Read(ref products), Interlocked.Read(ref shardCalls), Interlocked.Read(ref sent),
        Interlocked.Read(ref received), Interlocked.Read(ref chunks), Interlocked.Read(ref retries),
        Interlocked.Read(ref geometryCalls), Interlocked.Read(ref geometryShardCalls), Interlocked.Read(ref geometrySent), Interlocked.Read(ref geometryReceived));
}
