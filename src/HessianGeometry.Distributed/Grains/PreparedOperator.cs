namespace HessianGeometry.Distributed.Grains;

/// <summary>A worker's answer to Prepare: its shard operator's size and engine.</summary>
[GenerateSerializer]
internal sealed record PreparedOperator
{
    [Id(0)] public long Dimension { get; init; }
    [Id(1)] public long Samples { get; init; }
    [Id(2)] public string EngineName { get; init; } = "";
    [Id(3)] public string EngineNote { get; init; } = "";
    [Id(4)] public string Worker { get; init; } = "";
}
