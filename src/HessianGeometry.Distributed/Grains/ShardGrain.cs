using HessianGeometry.Distributed.Worker;
using Microsoft.Extensions.Logging;

namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// Serves one shard on one worker. Activation loads the model and the shard's rows from this worker's files; each call
/// runs on the shard's own thread (<see cref="TorchThread"/>: the silo keeps answering membership pings during a long product, and the bits do not depend on which thread ran it) and checks the caller's
/// cancellation token before and after the work.
/// </summary>
[ShardPlacement]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The shard's thread ends in OnDeactivateAsync, the grain's end of life.")]
internal sealed partial class ShardGrain(WorkerOptions options, ILocalSiloDetails silo, ILogger<ShardGrain> log) : Grain, IShardGrain
{
    private readonly Dictionary<Guid, byte[]> staged = [];
    private readonly TorchThread torch = new("hessian-geometry shard", options.Threads);
    private ShardData? data;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var shard = GrainKeys.ShardOf(this.GetPrimaryKeyString());
        var worker = silo.SiloAddress.ToParsableString();
        log.LogInformation("Loading shard {Shard} of {Data} on {Worker}.", shard, options.DataPath, worker);
        data = await torch.Run(() => ShardData.Load(options, shard, worker), cancellationToken);
        await base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var loaded = data;
        data = null;
        staged.Clear();
        if (loaded is not null)
            await torch.Run(() => { loaded.Dispose(); return true; }, CancellationToken.None);
        torch.Dispose();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task<ShardDescription> Describe(CancellationToken cancellationToken) => Task.FromResult(Data.Description);

    public Task<PreparedOperator> Prepare(OperatorConfig config, CancellationToken cancellationToken) =>
        Run(() => Data.Prepare(config), cancellationToken);

    public Task<LossSums> LossSums(OperatorConfig config, CancellationToken cancellationToken) =>
        Run(() => Data.LossSums(config), cancellationToken);

    public Task Upload(Guid transfer, long totalBytes, long offset, byte[] chunk)
    {
        if (!staged.TryGetValue(transfer, out var buffer))
        {
            if (totalBytes is < 0 or > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(totalBytes), totalBytes, "A product payload must be below 2 GiB; split the block into fewer columns.");
            staged[transfer] = buffer = new byte[totalBytes];
        }
        if (offset < 0 || offset + chunk.LongLength > buffer.LongLength)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"A chunk of {chunk.Length} bytes at {offset} does not fit a payload of {buffer.Length}.");
        chunk.CopyTo(buffer, offset);
        return Task.CompletedTask;
    }

    public async Task<ProductReply> Apply(OperatorConfig config, ProductRequest request, CancellationToken cancellationToken)
    {
        byte[] input = [];
        if (!request.Gradient)
        {
            if (request.Inline is { } inline)
                input = inline;
            else if (!staged.Remove(request.Transfer, out input!))
                throw new InvalidOperationException($"No payload was uploaded under {request.Transfer} on this worker (it may have been restarted); the client retries the whole product.");
        }
        var result = await Run(() => request.Gradient ? Data.Gradient(config) : Data.Apply(config, input, request.Columns), cancellationToken);
        var reply = new ProductReply { Samples = Data.Description.Length, Worker = Data.Description.Worker, TotalBytes = result.LongLength };
        if (result.LongLength <= request.MaxChunkBytes)
            return reply with { Inline = result };
        var id = Guid.NewGuid();
        staged[id] = result;
        return reply with { Transfer = id };
    }

    public Task<byte[]> Download(Guid transfer, long offset, int count)
    {
        if (!staged.TryGetValue(transfer, out var buffer))
            throw new InvalidOperationException($"No result is staged under {transfer} on this worker (it may have been restarted); the client retries the whole product.");
        var length = (int)Math.Max(0, Math.Min(count, buffer.LongLength - offset));
        return Task.FromResult(buffer.AsSpan((int)offset, length).ToArray());
    }

    public Task Release(Guid transfer)
    {
        staged.Remove(transfer);
        return Task.CompletedTask;
    }

    public Task ReleaseOperator(OperatorConfig config) =>
        data is null ? Task.CompletedTask : Run(() => data?.ReleaseOperator(config) ?? false, CancellationToken.None);

    private ShardData Data => data ?? throw new InvalidOperationException("The shard is not loaded.");

    private async Task<T> Run<T>(Func<T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var result = await torch.Run(work, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }
}
