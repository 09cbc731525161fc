using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Empirical Fisher products F̃ v = (1/n) Σ_i ∇_θ ℓ_i (∇_θ ℓ_iᵀ v) with the true labels: the mean of the per-sample
/// gradient outer products of the per-sample losses ℓ_i, not of n·ℓ_i, so it has the scale of the Hessian of the mean
/// loss (see docs/curvature.md for curvlinops' convention). Written as a Jacobian sandwich with M_i = g_i g_iᵀ,
/// g_i = ∇_f ℓ_i, so any loss with a per-sample form works.
/// </summary>
public sealed class EmpiricalFisherEngine : ICurvatureEngine, IJacobianSandwichEngine
{
    private readonly EmpiricalRisk risk;

    /// <summary>Creates the engine over <paramref name="risk"/>.</summary>
    /// <exception cref="NotSupportedException">The loss has no per-sample form (a custom loss that reduces over the batch).</exception>
    public EmpiricalFisherEngine(EmpiricalRisk risk)
        : this(risk, new JacobianMaterialisation())
    {
    }

    /// <summary>Creates the engine with the given materialisation rule (null: always the double-vjp path).</summary>
    internal EmpiricalFisherEngine(EmpiricalRisk risk, JacobianMaterialisation? materialisation)
    {
        Materialisation = materialisation;
        Guard.NotNull(risk, nameof(risk));
        if (!risk.LossFunction.HasPerSampleForm)
            throw new NotSupportedException($"The empirical Fisher needs per-sample losses, but the custom loss '{risk.LossFunction.Name}' reduces over the batch ({risk.LossFunction.Reduction}). Declare it with LossReduction.None.");
        this.risk = risk;
    }

    /// <inheritdoc />
    JacobianMaterialisation? IJacobianSandwichEngine.Materialisation => Materialisation;

    /// <summary>When cached batches switch to a materialised Jacobian (see <see cref="JacobianMaterialisation"/>).</summary>
    internal JacobianMaterialisation? Materialisation { get; }

    /// <inheritdoc />
    public string Name => "EmpiricalFisher";

    /// <inheritdoc />
    public IBatchCurvature Prepare(RiskBatch batch) => JacobianBatch.Prepare(risk, batch, OuterProducts, Materialisation);

    private IOutputSpaceMatrix OuterProducts(Tensor outputs, RiskBatch batch)
    {
        using var scope = NewDisposeScope();
        // ∇_f Σ_i ℓ_i has row i = ∇_f ℓ_i, because ℓ_i depends on f_i only.
        var leaf = outputs.detach().requires_grad_(true);
        var sum = risk.LossFunction.Sum(leaf, batch.Targets);
        var gradient = torch.autograd.grad([sum], [leaf])[0].detach();
        var rows = gradient.reshape(gradient.shape[0], 1, -1).contiguous();
        return new OuterProductOutputMatrix(rows.MoveToOuterDisposeScope(), batch.Scale);
    }
}
