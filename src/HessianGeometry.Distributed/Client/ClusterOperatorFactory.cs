using HessianGeometry.Distributed.Grains;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Client;

/// <summary>
/// Builds the analysis' operator on the cluster: the client's risk is sent as a configuration (loss, matrix, precision,
/// parameter names, batch size, engine options), every worker builds the same operator over its shard with the
/// single-process library, and the client sums them (<see cref="DistributedCurvatureOperator"/>).
/// </summary>
internal sealed class ClusterOperatorFactory(HessianCluster cluster) : ICurvatureOperatorFactory
{
    public CurvatureOperator Create(EmpiricalRisk risk, CurvatureKind kind, CurvatureOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(risk);
        ArgumentNullException.ThrowIfNull(options);
        if (risk.LossFunction.Kind == LossKind.Custom)
            throw new NotSupportedException($"The custom loss '{risk.LossFunction.Name}' cannot be sent to workers. On a cluster use cross-entropy, NLL or MSE.");
        if (risk.SampleCount != cluster.TotalSamples)
            throw new ClusterShardException(null, null, $"The analysis runs over {risk.SampleCount} samples but the cluster's shards cover {cluster.TotalSamples}. Use OnCluster(cluster) instead of WithData.");
        var config = new OperatorConfig
        {
            LossKind = (int)risk.LossFunction.Kind,
            CurvatureKind = (int)kind,
            GraphMode = (int)options.GraphMode,
            Engine = (int)options.Engine,
            FisherSamples = options.FisherSamples,
            Seed = options.Seed,
            CheckDeterministic = options.CheckDeterministic,
            Float64 = risk.DType == ScalarType.Float64,
            BatchSize = risk.Data.BatchSize is { } b && b < risk.SampleCount ? b : null,
            ParameterNames = [.. risk.Parameters.Names],
            AllowTrainingMode = risk.Options.AllowTrainingMode,
            Instance = Guid.NewGuid(),
        };
        var prepared = cluster.PrepareAsync(config, cancellationToken).ConfigureAwait(false).GetAwaiter().GetResult();
        for (var s = 0; s < prepared.Length; s++)
        {
            if (prepared[s].Dimension != risk.Dimension)
            {
                var shard = cluster.Shards[s];
                throw new ClusterShardException(shard.Shard, prepared[s].Worker,
                    $"The model of shard {shard.Shard} on {prepared[s].Worker} has {prepared[s].Dimension} selected parameters, the client {risk.Dimension}. The worker's model differs from the client's.");
            }
        }
        var engines = prepared.Select(p => p.EngineName).Distinct().ToList();
        var name = engines.Count == 1 ? engines[0] : string.Join("+", engines);
        var note = $"{prepared[0].EngineNote}; summed over {prepared.Length} shard(s) on {prepared.Select(p => p.Worker).Distinct().Count()} worker(s) (Orleans)";
        return new DistributedCurvatureOperator(risk, new ClusterEngine(name), note, cluster, config, cancellationToken);
    }
}
