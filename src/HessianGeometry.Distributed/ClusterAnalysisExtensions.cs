using HessianGeometry.Analysis;

namespace HessianGeometry.Distributed;

/// <summary>Runs an analysis on a cluster: the data is the union of the workers' shards, the products are summed over them.</summary>
public static class ClusterAnalysisExtensions
{
    /// <summary>
    /// Replaces WithData: the data is the file the workers serve (read by the client too, for the stages that need
    /// per-sample quantities), checked shard by shard against the workers' hashes, and the model must hash equal to the
    /// workers'. Every curvature product of every stage is then summed over the workers.
    /// </summary>
    /// <param name="builder">The analysis.</param>
    /// <param name="cluster">The connected cluster.</param>
    /// <param name="batchSize">Mini-batch size on the client and on every worker (null: one batch per shard).</param>
    /// <exception cref="ClusterShardException">The local model differs from the workers', or the client's copy of a shard differs.</exception>
    public static HessianAnalysisBuilder OnCluster(this HessianAnalysisBuilder builder, HessianCluster cluster, int? batchSize = null) =>
        throw new NotImplementedException();
}
