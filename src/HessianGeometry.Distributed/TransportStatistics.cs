namespace HessianGeometry.Distributed;

/// <summary>What has crossed the wire so far (a snapshot; payload bytes of vectors and blocks, not Orleans headers).</summary>
/// <param name="Products">Curvature-vector products summed over the cluster (a block of k vectors counts k, as in the report's product counts).</param>
/// <param name="ShardCalls">Shard calls (one per shard per product, loss or gradient), retries included.</param>
/// <param name="BytesSent">Payload bytes sent to workers.</param>
/// <param name="BytesReceived">Payload bytes received from workers.</param>
/// <param name="Chunks">Payload messages (a vector above the chunk size travels in several).</param>
/// <param name="Retries">Shard calls repeated on another worker after a failure or timeout.</param>
public sealed record TransportStatistics(long Products, long ShardCalls, long BytesSent, long BytesReceived, long Chunks, long Retries)
{
    /// <summary>Payload bytes both ways per curvature-vector product (0 before the first): W·2·p·(4 or 8) for W shards.</summary>
    public double BytesPerProduct => Products == 0 ? 0 : (double)(BytesSent + BytesReceived) / Products;
}
