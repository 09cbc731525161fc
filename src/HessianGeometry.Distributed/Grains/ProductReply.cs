namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// The shard's mean product (1/n_s) Σ_{i∈s} C_i V as k rows of p raw values: inline when small, otherwise staged under
/// <see cref="Transfer"/> for chunked download.
/// </summary>
[GenerateSerializer]
internal sealed record ProductReply
{
    [Id(0)] public byte[]? Inline { get; init; }
    [Id(1)] public Guid Transfer { get; init; }
    [Id(2)] public long TotalBytes { get; init; }
    [Id(3)] public long Samples { get; init; }
    [Id(4)] public string Worker { get; init; } = "";
}
