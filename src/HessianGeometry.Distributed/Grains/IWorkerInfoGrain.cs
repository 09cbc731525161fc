namespace HessianGeometry.Distributed.Grains;

/// <summary>One per silo (key "worker|silo"): which shard the worker loaded at start, described by its shard grain.</summary>
internal interface IWorkerInfoGrain : IGrainWithStringKey
{
    Task<ShardDescription> Describe(CancellationToken cancellationToken);
}
