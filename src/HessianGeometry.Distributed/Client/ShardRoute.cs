namespace HessianGeometry.Distributed.Client;

/// <summary>A shard and the workers to try for it, in order: those that loaded it at start, then every other worker.</summary>
internal sealed record ShardRoute(ShardInfo Info, IReadOnlyList<string> Candidates)
{
    /// <summary>n_s / n, the shard's weight in the mean over all samples.</summary>
    public double Weight => (double)Info.Length / Info.TotalSamples;
}
