using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Generalised Gauss–Newton products for any differentiable module (Schraudolph 2002; Martens 2020, "New insights and
/// perspectives on the natural gradient method"): G_B v = J_Bᵀ Λ_B J_B v with J_B the Jacobian of the batch's outputs
/// and Λ_B the loss Hessian in output space (cross-entropy: diag(p) − ppᵀ; MSE: (2/C) I), each sample weighted 1/n. The
/// second-order terms of the network, Σ_c (∂ℓ/∂f_c) ∇²_θ f_c, are left out; they are the residual H − G.
/// J v comes from the double-vjp trick (see <see cref="JacobianBatch"/>), so no forward-mode AD is needed.
/// </summary>
public sealed class GgnEngine : ICurvatureEngine, IJacobianSandwichEngine
{
    private readonly EmpiricalRisk risk;

    /// <summary>Creates the engine over <paramref name="risk"/>.</summary>
    /// <exception cref="NotSupportedException">The loss is not cross-entropy or MSE.</exception>
    public GgnEngine(EmpiricalRisk risk)
        : this(risk, new JacobianMaterialisation())
    {
    }

    /// <summary>Creates the engine with the given materialisation rule (null: always the double-vjp path).</summary>
    internal GgnEngine(EmpiricalRisk risk, JacobianMaterialisation? materialisation)
    {
        Materialisation = materialisation;
        Guard.NotNull(risk, nameof(risk));
        RequireConvexOutputLoss(risk.LossFunction, "The GGN");
        this.risk = risk;
    }

    /// <inheritdoc />
    JacobianMaterialisation? IJacobianSandwichEngine.Materialisation => Materialisation;

    /// <summary>When cached batches switch to a materialised Jacobian (see <see cref="JacobianMaterialisation"/>).</summary>
    internal JacobianMaterialisation? Materialisation { get; }

    /// <inheritdoc />
    public string Name => "GenericGgn";

    /// <inheritdoc />
    public IBatchCurvature Prepare(RiskBatch batch) => JacobianBatch.Prepare(risk, batch, OutputHessian, Materialisation);

    /// <summary>Λ_B for the batch: the loss Hessian in the outputs, times the batch weight.</summary>
    private IOutputSpaceMatrix OutputHessian(Tensor outputs, RiskBatch batch) => risk.LossFunction.Kind switch
    {
        LossKind.CrossEntropy => new CrossEntropyOutputHessian(RequireLogits(outputs, "The GGN"), batch.Scale),
        _ => new MseOutputHessian(outputs.numel() / Math.Max(outputs.shape[0], 1), batch.Scale),
    };

    /// <summary>Refuses losses whose output-space Hessian the engines do not know.</summary>
    internal static void RequireConvexOutputLoss(LossFunction loss, string what)
    {
        if (loss.Kind is LossKind.CrossEntropy or LossKind.MeanSquaredError)
            return;
        var why = loss.Kind == LossKind.NegativeLogLikelihood
            ? "NLL is linear in its input (log-probabilities), so its output-space Hessian is 0; use cross-entropy on the logits instead"
            : $"the custom loss '{loss.Name}' has no known output-space Hessian";
        throw new NotSupportedException($"{what} is defined here for cross-entropy and MSE only: {why}. Analyse the Hessian or the empirical Fisher instead.");
    }

    /// <summary>Cross-entropy's output matrices need logits [b, C].</summary>
    internal static Tensor RequireLogits(Tensor outputs, string what)
    {
        if (outputs.dim() != 2)
            throw new NotSupportedException($"{what} for cross-entropy needs model outputs of shape [batch, classes] but they have shape [{string.Join(", ", outputs.shape)}]. Flatten extra output dimensions in the model, or analyse the Hessian.");
        return outputs;
    }
}
