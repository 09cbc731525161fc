namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// A request for one per-sample quantity over a shard (<see cref="GeometryKind"/>): the broadcast directions, if any,
/// as k rows of p float64 values (inline when small, else uploaded in chunks under <see cref="Transfer"/> first, as for
/// products; for the boundary curvature and the linear pieces: the boundary points of the shard's inputs, as rows),
/// the stage's options as JSON (the same record the single-process stage gets), and for
/// <see cref="GeometryKind.InputRows"/> and <see cref="GeometryKind.PiecesCrossed"/> the shard-local row indices.
/// </summary>
[GenerateSerializer]
internal sealed record GeometryRequest
{
    [Id(0)] public GeometryKind Kind { get; init; }
    [Id(1)] public Guid Transfer { get; init; }
    [Id(2)] public int Columns { get; init; }
    [Id(3)] public byte[]? Inline { get; init; }
    [Id(4)] public int MaxChunkBytes { get; init; }
    [Id(5)] public string OptionsJson { get; init; } = "";
    [Id(6)] public long[] Indices { get; init; } = [];
    [Id(7)] public int PieceSamples { get; init; }
}
