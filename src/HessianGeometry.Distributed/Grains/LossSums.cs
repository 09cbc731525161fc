namespace HessianGeometry.Distributed.Grains;

/// <summary>Σ ℓ_i over a shard in float64, the number of correct argmax predictions, and whether accuracy is defined.</summary>
[GenerateSerializer]
internal sealed record LossSums
{
    [Id(0)] public double LossSum { get; init; }
    [Id(1)] public long Correct { get; init; }
    [Id(2)] public bool Classification { get; init; }
    [Id(3)] public long Samples { get; init; }
}
