namespace HessianGeometry.Distributed.Grains;

/// <summary>The geometry calls of a shard grain: per-sample rows, staged and chunked like products.</summary>
internal sealed partial class ShardGrain
{
    public async Task<GeometryReply> Geometry(OperatorConfig config, GeometryRequest request, CancellationToken cancellationToken)
    {
        byte[] input = [];
        if (request.Inline is { } inline)
            input = inline;
        else if (request.Transfer != Guid.Empty && !staged.Remove(request.Transfer, out input!))
            throw new InvalidOperationException($"No payload was uploaded under {request.Transfer} on this worker (it may have been restarted); the client retries the whole request.");
        var (bytes, shape, dtype, note) = await Run(() => Data.Geometry(config, request, input, cancellationToken), cancellationToken);
        var reply = new GeometryReply { Shape = shape, DType = (int)dtype, Note = note, Worker = Data.Description.Worker, TotalBytes = bytes.LongLength };
        if (bytes.LongLength <= request.MaxChunkBytes)
            return reply with { Inline = bytes };
        var id = Guid.NewGuid();
        staged[id] = bytes;
        return reply with { Transfer = id };
    }
}
