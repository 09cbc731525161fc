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

    public TransportStatistics Snapshot() => new(
        Interlocked.Read(ref products), Interlocked.Read(ref shardCalls), Interlocked.Read(ref sent),
        Interlocked.Read(ref received), Interlocked.Read(ref chunks), Interlocked.Read(ref retries));
}
