namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Hessian-vector products by autograd's double backward (Pearlmutter 1994): H_B v = ∇_θ ⟨∇_θ L_B, v⟩. Works for any
/// differentiable model; a batch's first-order gradients are built once with <c>create_graph</c> and each product is
/// one further backward pass.
/// </summary>
public sealed class DoubleBackwardHessianEngine : ICurvatureEngine
{
    private readonly EmpiricalRisk risk;

    /// <summary>Creates the engine over <paramref name="risk"/>.</summary>
    public DoubleBackwardHessianEngine(EmpiricalRisk risk)
    {
        Internal.Guard.NotNull(risk, nameof(risk));
        this.risk = risk;
    }

    /// <inheritdoc />
    public string Name => nameof(HvpEngine.DoubleBackward);

    /// <inheritdoc />
    public IBatchCurvature Prepare(RiskBatch batch) =>
        new DoubleBackwardBatch(risk.AnalysisParameters, risk.ParameterGradients(risk.BatchLoss(batch), createGraph: true));
}
