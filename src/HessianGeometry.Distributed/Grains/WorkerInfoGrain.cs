namespace HessianGeometry.Distributed.Grains;

/// <summary>Answers for one silo which shard its worker loaded at start (by asking that shard's grain on the same silo).</summary>
[ShardPlacement]
internal sealed class WorkerInfoGrain(WorkerOptions options, ILocalSiloDetails silo) : Grain, IWorkerInfoGrain
{
    public Task<ShardDescription> Describe(CancellationToken cancellationToken)
    {
        var self = silo.SiloAddress.ToParsableString();
        var wanted = GrainKeys.SiloOf(this.GetPrimaryKeyString());
        if (wanted != self)
            throw new InvalidOperationException($"Worker {wanted} is gone (this activation runs on {self}).");
        return GrainFactory.GetGrain<IShardGrain>(GrainKeys.Shard(options.Shard, self)).Describe(cancellationToken);
    }
}
