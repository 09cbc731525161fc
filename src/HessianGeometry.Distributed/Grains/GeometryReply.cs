namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// A shard's per-sample rows as raw values of <see cref="DType"/> with <see cref="Shape"/> (one row per sample in sample
/// order, or per requested index; boundary curvatures as UTF-8 JSON): inline when small, otherwise staged under
/// <see cref="Transfer"/> for chunked download. <see cref="Note"/> carries why a quantity could not be computed.
/// </summary>
[GenerateSerializer]
internal sealed record GeometryReply
{
    [Id(0)] public byte[]? Inline { get; init; }
    [Id(1)] public Guid Transfer { get; init; }
    [Id(2)] public long TotalBytes { get; init; }
    [Id(3)] public long[] Shape { get; init; } = [];
    [Id(4)] public int DType { get; init; }
    [Id(5)] public string Worker { get; init; } = "";
    [Id(6)] public string? Note { get; init; }
}
