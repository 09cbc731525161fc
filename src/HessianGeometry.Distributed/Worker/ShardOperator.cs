using HessianGeometry.Distributed.Grains;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// A shard's risk and curvature operator, built by the single-process library from the client's configuration: the
/// same loss, matrix, precision, parameter selection, engine and options, over the shard's rows only.
/// </summary>
internal sealed class ShardOperator : IDisposable
{
    private readonly EmpiricalRisk risk;

    public ShardOperator(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, long firstSample, OperatorConfig config)
    {
        var loss = (LossKind)config.LossKind switch
        {
            Operators.LossKind.CrossEntropy => LossFunction.CrossEntropy,
            Operators.LossKind.NegativeLogLikelihood => LossFunction.NegativeLogLikelihood,
            Operators.LossKind.MeanSquaredError => LossFunction.MeanSquaredError,
            _ => throw new NotSupportedException("A custom loss cannot be sent to a worker; use cross-entropy, NLL or MSE on a cluster."),
        };
        var names = config.ParameterNames.ToHashSet(StringComparer.Ordinal);
        var space = ParameterSpace.FromModule(model, names.Contains);
        if (!space.Names.SequenceEqual(config.ParameterNames))
        {
            throw new InvalidOperationException(
                $"The worker's model selects parameters [{string.Join(", ", space.Names)}] for the client's [{string.Join(", ", config.ParameterNames)}]: the models differ.");
        }
        var data = DataSource.FromTensors(x, y, config.BatchSize);
        risk = new EmpiricalRisk(model, loss, data, space, new EmpiricalRiskOptions
        {
            AnalysisDType = config.Float64 ? ScalarType.Float64 : ScalarType.Float32,
            AllowTrainingMode = config.AllowTrainingMode,
            // Global sample indices, so that the Monte-Carlo Fisher draws for these rows what one process draws for them.
            SampleOffset = firstSample,
        });
        try
        {
            Operator = CurvatureOperators.Create(risk, (CurvatureKind)config.CurvatureKind, new CurvatureOptions
            {
                GraphMode = (HessianGraphMode)config.GraphMode,
                Engine = (HvpEngine)config.Engine,
                FisherSamples = config.FisherSamples,
                Seed = config.Seed,
                CheckDeterministic = config.CheckDeterministic,
            });
        }
        catch
        {
            risk.Dispose();
            throw;
        }
    }

    public CurvatureOperator Operator { get; }

    public EmpiricalRisk Risk => risk;

    public void Dispose()
    {
        Operator.Dispose();
        risk.Dispose();
    }
}
