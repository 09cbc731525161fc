namespace HessianGeometry.Distributed;

/// <summary>
/// What has crossed the wire so far (a snapshot; payload bytes, not Orleans headers): curvature products, loss and
/// gradient in the first six fields, the geometry stages' per-sample rows counted apart in the Geometry fields.
/// </summary>
/// <param name="Products">Curvature-vector products summed over the cluster (a block of k vectors counts k, as in the report's product counts).</param>
/// <param name="ShardCalls">Shard calls (one per shard per product, loss, gradient or geometry request), retries included.</param>
/// <param name="BytesSent">Payload bytes sent to workers.</param>
/// <param name="BytesReceived">Payload bytes received from workers.</param>
/// <param name="Chunks">Payload messages of products and geometry requests (a vector above the chunk size travels in several).</param>
/// <param name="Retries">Shard calls repeated on another worker after a failure or timeout.</param>
/// <param name="GeometryCalls">Requests for per-sample geometry rows (alignment, output-gradient scales, sample margins, input rows), each sent to every shard concerned.</param>
/// <param name="GeometryShardCalls">Shard calls that answered a geometry request (retries included; also counted in <paramref name="ShardCalls"/>).</param>
/// <param name="GeometryBytesSent">Payload bytes of geometry requests sent to workers (the broadcast directions: k·p·8 per shard); not in <paramref name="BytesSent"/>.</param>
/// <param name="GeometryBytesReceived">Payload bytes of per-sample rows received (e.g. n·(k + 3)·8 for an alignment with k directions); not in <paramref name="BytesReceived"/>.</param>
public sealed record TransportStatistics(long Products, long ShardCalls, long BytesSent, long BytesReceived, long Chunks, long Retries,
    long GeometryCalls = 0, long GeometryShardCalls = 0, long GeometryBytesSent = 0, long GeometryBytesReceived = 0)
{
    /// <summary>Payload bytes both ways per curvature-vector product (0 before the first): W·2·p·(4 or 8) for W shards.</summary>
    public double BytesPerProduct => Products == 0 ? 0 : (double)(BytesSent + BytesReceived) / Products;
}
