namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// A product of the shard's curvature with <see cref="Columns"/> vectors, stored as k rows of p raw values (float64 or
/// float32, as the analysis runs): inline when small, otherwise uploaded in chunks under <see cref="Transfer"/> first.
/// </summary>
[GenerateSerializer]
internal sealed record ProductRequest
{
    [Id(0)] public Guid Transfer { get; init; }
    [Id(1)] public int Columns { get; init; } = 1;
    [Id(2)] public byte[]? Inline { get; init; }
    [Id(3)] public int MaxChunkBytes { get; init; }
    [Id(4)] public bool Gradient { get; init; }
}
