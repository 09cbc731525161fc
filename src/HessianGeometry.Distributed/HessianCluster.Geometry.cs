using HessianGeometry.Distributed.Client;
using HessianGeometry.Distributed.Grains;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed;

/// <summary>The geometry calls: per-sample rows from every shard, with the same routes, retries and chunking as products.</summary>
public sealed partial class HessianCluster
{
    /// <summary>
    /// Sends <paramref name="requestFor"/>(shard) — a request and its payload (e.g. k rows of p float64 directions, the
    /// same for every shard, or the boundary points of that shard's inputs; possibly empty) — to every shard for which it
    /// is not null, in parallel, and returns the answers in shard (= sample) order, null for the shards not asked. A shard
    /// whose worker fails is retried elsewhere; when none answers the call fails naming it.
    /// </summary>
    internal async Task<ShardRows?[]> GeometryAsync(OperatorConfig config, Func<ShardInfo, (GeometryRequest Request, byte[] Payload)?> requestFor, CancellationToken ct)
    {
        counters.GeometryCall();
        return await Task.WhenAll(routes.Select(async r =>
        {
            if (requestFor(r.Info) is not { } asked)
                return null;
            return await Call(r, (g, t) => GeometryOn(g, config, asked.Request, asked.Payload, t), ct).ConfigureAwait(false);
        })).ConfigureAwait(false);
    }

    private async Task<ShardRows> GeometryOn(IShardGrain grain, OperatorConfig config, GeometryRequest request, byte[] directions, CancellationToken ct)
    {
        counters.GeometryShardCall();
        var chunk = Options.MaxChunkBytes;
        request = request with { MaxChunkBytes = chunk };
        if (directions.Length == 0)
        {
            // nothing to send
        }
        else if (directions.Length <= chunk)
        {
            request = request with { Inline = directions };
            counters.GeometrySent(directions.Length);
        }
        else
        {
            var id = Guid.NewGuid();
            for (long offset = 0; offset < directions.LongLength; offset += chunk)
            {
                ct.ThrowIfCancellationRequested();
                var piece = directions.AsSpan((int)offset, (int)Math.Min(chunk, directions.LongLength - offset)).ToArray();
                await grain.Upload(id, directions.LongLength, offset, piece).ConfigureAwait(false);
                counters.GeometrySent(piece.Length);
            }
            request = request with { Transfer = id };
        }
        var reply = await grain.Geometry(config, request, ct).ConfigureAwait(false);
        if (reply.Inline is { } inline)
        {
            counters.GeometryReceived(inline.Length);
            return new ShardRows(inline, reply.Shape, (ScalarType)reply.DType, reply.Note);
        }
        var result = new byte[reply.TotalBytes];
        for (long offset = 0; offset < result.LongLength; offset += chunk)
        {
            ct.ThrowIfCancellationRequested();
            var piece = await grain.Download(reply.Transfer, offset, chunk).ConfigureAwait(false);
            piece.CopyTo(result, offset);
            counters.GeometryReceived(piece.Length);
        }
        await grain.Release(reply.Transfer).ConfigureAwait(false);
        return new ShardRows(result, reply.Shape, (ScalarType)reply.DType, reply.Note);
    }
}
