using HessianGeometry.Distributed.Grains;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Client;

/// <summary>
/// The curvature operator of the whole data set as a sum over the workers' shards:
/// C v = (1/n) Σ_i C_i v = Σ_s (n_s/n) · C_s v, with C_s v = (1/n_s) Σ_{i∈s} C_i v computed by the worker that holds shard
/// s. The loss, accuracy and gradient are summed the same way, and the per-sample quantities of the geometry stages come
/// from the workers too (<see cref="DistributedSampleGeometry"/>). The client's risk (over the same data, read from the
/// same file) gives the dimension and dtype, and the data of the stages that still run on the client.
/// </summary>
internal sealed class DistributedCurvatureOperator : CurvatureOperator, ISampleGeometrySource
{
    private readonly HessianCluster cluster;
    private readonly OperatorConfig config;
    private readonly CancellationToken cancellationToken;

    public DistributedCurvatureOperator(EmpiricalRisk risk, ClusterEngine engine, string note, HessianCluster cluster, OperatorConfig config, CancellationToken cancellationToken)
        : base(risk, engine, HessianGraphMode.Streamed, note)
    {
        this.cluster = cluster;
        this.config = config;
        this.cancellationToken = cancellationToken;
        Geometry = new DistributedSampleGeometry(cluster, config, risk);
    }

    /// <summary>The per-sample quantities of the geometry stages, computed by the workers over their shards.</summary>
    public DistributedSampleGeometry Geometry { get; }

    ISampleGeometry ISampleGeometrySource.SampleGeometry => Geometry;

    public override double Loss() => LossAndAccuracy().Loss;

    public override (double Loss, double? Accuracy) LossAndAccuracy()
    {
        ThrowIfDisposed();
        return Wait(cluster.LossAndAccuracyAsync(config, cancellationToken));
    }

    public override Tensor Gradient()
    {
        ThrowIfDisposed();
        var sum = Wait(cluster.WeightedSumAsync(config, [], 1, Dimension, gradient: true, cancellationToken));
        return Payload.ToTensor(sum, Dimension).to(DType);
    }

    protected override Tensor ApplyCore(Tensor vector)
    {
        ThrowIfDisposed();
        var sum = Wait(cluster.WeightedSumAsync(config, Payload.ToBytes(vector), 1, Dimension, gradient: false, cancellationToken));
        return Payload.ToTensor(sum, Dimension).to(DType);
    }

    protected override Tensor ApplyBlockCore(Tensor block)
    {
        ThrowIfDisposed();
        var k = (int)block.shape[1];
        // k rows of p on the wire (the transposed block), one product per shard for the whole block.
        var rows = Payload.ToBytes(block.T.contiguous());
        var sum = Wait(cluster.WeightedSumAsync(config, rows, k, k * Dimension, gradient: false, cancellationToken));
        return Payload.ToTensor(sum, k, Dimension).T.contiguous().to(DType);
    }

    /// <summary>Releases the workers' operators of this configuration (best effort: a worker that is gone has nothing to release).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            cluster.ReleaseOperators(config);
        base.Dispose(disposing);
    }

    /// <summary>The solvers call products synchronously; the cluster answers asynchronously.</summary>
    private static T Wait<T>(Task<T> task) => task.ConfigureAwait(false).GetAwaiter().GetResult();
}
