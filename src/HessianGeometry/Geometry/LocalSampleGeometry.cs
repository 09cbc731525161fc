using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>The per-sample quantities of a risk over inputs held in this process: the single-process geometry.</summary>
/// <param name="risk">The empirical risk (model, loss, parameter selection, analysis dtype).</param>
/// <param name="inputs">The inputs, [n, ...] (the analysis' data inputs).</param>
internal sealed class LocalSampleGeometry(EmpiricalRisk risk, Tensor inputs) : ISampleGeometry
{
    public long InputCount => inputs.shape[0];

    public AlignmentResult Alignment(Tensor directions, AlignmentOptions options, bool explicitGradients, CancellationToken cancellationToken) =>
        explicitGradients
            ? AlignmentMatrix.Compute(risk, inputs, directions, options, cancellationToken: cancellationToken)
            : AlignmentAnalyzer.Compute(risk, inputs, directions, options, cancellationToken);

    public double[] OutputGradientScale(AlignmentOptions options, CancellationToken cancellationToken) =>
        SaturatedInputs.OutputGradientScale(risk, inputs, options.UseTrueLabels ? risk.Data.Targets : null, options.BatchSize, cancellationToken);

    public Tensor InputRows(long[] indices)
    {
        using var scope = NewDisposeScope();
        using var rows = tensor(indices, dtype: ScalarType.Int64);
        var x = risk.PrepareInputs(inputs.detach());
        return x.index_select(0, rows.to(x.device)).MoveToOuterDisposeScope();
    }

    public SampleMargins SampleMargins(SampleMarginOptions options, CancellationToken cancellationToken) =>
        SampleMarginEstimator.Estimate(risk, inputs, options, cancellationToken);
}
