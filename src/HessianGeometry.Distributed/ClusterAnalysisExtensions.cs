using HessianGeometry.Analysis;
using HessianGeometry.Distributed.Client;
using HessianGeometry.Distributed.Worker;

namespace HessianGeometry.Distributed;

/// <summary>Runs an analysis on a cluster: the data is the union of the workers' shards, the products are summed over them.</summary>
public static class ClusterAnalysisExtensions
{
    /// <summary>
    /// Replaces WithData: the data is the file the workers serve (read by the client too, for the closed-form traces and
    /// the exact MLP diagonal), checked shard by shard against the workers' hashes, and the model must hash equal to the
    /// workers'. Every curvature product, the loss and the gradient are then summed over the workers, and the geometry
    /// stages' per-sample quantities (alignment, saturation, margins) are computed by the workers over their shards.
    /// </summary>
    /// <param name="builder">The analysis.</param>
    /// <param name="cluster">The connected cluster.</param>
    /// <param name="batchSize">Mini-batch size on the client and on every worker (null: one batch per shard).</param>
    /// <exception cref="ClusterShardException">The local model differs from the workers', or the client's copy of a shard differs.</exception>
    public static HessianAnalysisBuilder OnCluster(this HessianAnalysisBuilder builder, HessianCluster cluster, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(cluster);
        // Same parameters, same hash, but the workers would run the one-logit model itself, not its two-class view.
        if (builder.Model is Models.TwoClassLogits)
            throw new NotSupportedException("A TwoClassLogits view runs in one process: the workers analyse the model file's own outputs, which here are one logit. " +
                "Analyse it without OnCluster, or export the classifier with the two logits [0, f] and analyse that file on the cluster.");
        var modelHash = StateHash.Of(builder.Model);
        var first = cluster.Shards[0];
        if (first.ModelHash != modelHash)
        {
            throw new ClusterShardException(first.Shard, first.Worker,
                $"The workers' model (weights hash {first.ModelHash[..12]}…, e.g. shard {first.Shard} on {first.Worker}) is not the model being analysed here ({modelHash[..12]}…). " +
                "Start the workers on the same model file the client loads (same weights, same dtype).");
        }
        var description = cluster.Description;
        using var file = ShardFile.Read(description.DataPath, description.XKey, description.YKey);
        if (file.Samples != cluster.TotalSamples)
            throw new ClusterShardException(null, null, $"The client reads {file.Samples} samples from {description.DataPath} but the workers {cluster.TotalSamples}. Point client and workers at the same file.");
        foreach (var s in cluster.Shards)
        {
            if (file.Hash(s.Start, s.Length) != s.DataHash)
            {
                throw new ClusterShardException(s.Shard, s.Worker,
                    $"The data of shard {s.Shard} on {s.Worker} (samples [{s.Start}, {s.Start + s.Length})) differs from the client's {description.DataPath}. Point client and workers at the same file.");
            }
        }
        var (x, y) = file.Rows(0, file.Samples, WorkerModel.DTypeOf(builder.Model));
        return builder.WithData(x, y, batchSize).WithOperatorFactory(new ClusterOperatorFactory(cluster));
    }
}
