namespace HessianGeometry.Distributed.Grains;

/// <summary>What a worker reports about a shard it has loaded.</summary>
[GenerateSerializer]
internal sealed record ShardDescription
{
    [Id(0)] public int Index { get; init; }
    [Id(1)] public int Count { get; init; }
    [Id(2)] public long Start { get; init; }
    [Id(3)] public long Length { get; init; }
    [Id(4)] public long TotalSamples { get; init; }
    [Id(5)] public long ParameterCount { get; init; }
    [Id(6)] public string ModelHash { get; init; } = "";
    [Id(7)] public string DataHash { get; init; } = "";
    [Id(8)] public string Worker { get; init; } = "";
    [Id(9)] public string DataPath { get; init; } = "";
    [Id(10)] public string XKey { get; init; } = "";
    [Id(11)] public string YKey { get; init; } = "";
}
