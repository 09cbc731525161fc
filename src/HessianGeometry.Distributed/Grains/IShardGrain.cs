namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// One shard on one worker. The key is "i/N|silo": <see cref="ShardPlacementDirector"/> activates it on that silo when it
/// is alive (else on any live one), and the activation loads the model and shard i/N from that worker's files.
/// </summary>
internal interface IShardGrain : IGrainWithStringKey
{
    Task<ShardDescription> Describe(CancellationToken cancellationToken);

    Task<PreparedOperator> Prepare(OperatorConfig config, CancellationToken cancellationToken);

    Task<LossSums> LossSums(OperatorConfig config, CancellationToken cancellationToken);

    Task Upload(Guid transfer, long totalBytes, long offset, byte[] chunk);

    Task<ProductReply> Apply(OperatorConfig config, ProductRequest request, CancellationToken cancellationToken);

    Task<byte[]> Download(Guid transfer, long offset, int count);

    Task Release(Guid transfer);

    /// <summary>Disposes this shard's operator for <paramref name="config"/> (its client operator was disposed); nothing when there is none.</summary>
    Task ReleaseOperator(OperatorConfig config);

    /// <summary>Per-sample rows of the geometry stages over this shard (see <see cref="GeometryRequest"/>).</summary>
    Task<GeometryReply> Geometry(OperatorConfig config, GeometryRequest request, CancellationToken cancellationToken);
}
