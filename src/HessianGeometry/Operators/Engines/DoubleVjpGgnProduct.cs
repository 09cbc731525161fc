using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// One batch's GGN product G_B v = Jᵀ (∂²L_B/∂z²) J v computed by autograd alone, as the independent reference that
/// <see cref="AnalyticMlpGgnEngine.TryCreate"/> checks a first analytic product against: J v by the double-vjp trick
/// (J v = ∂/∂u ⟨Jᵀ u, v⟩ for a dummy cotangent u, since TorchSharp has no forward-mode AD), the output-space loss
/// Hessian by a double backward of the loss in the logits, and Jᵀ by a plain vector-Jacobian product. Three backward
/// passes through the model: a check, not an engine.
/// </summary>
internal static class DoubleVjpGgnProduct
{
    /// <summary>G_B v flat [p] in the analysis dtype, in the caller's dispose scope.</summary>
    /// <exception cref="NotSupportedException">The outputs do not depend on every selected parameter.</exception>
    public static Tensor Compute(EmpiricalRisk risk, RiskBatch batch, Tensor vector)
    {
        var space = risk.AnalysisParameters;
        ModelChecks.Differentiable(space);
        var parameters = space.Tensors.ToList();
        var logits = risk.Forward(batch.Inputs);
        if (!logits.requires_grad)
            throw new NotSupportedException("the model's outputs do not depend on the selected parameters");
        var cotangent = zeros_like(logits).requires_grad_();
        var vjp = autograd.grad([logits], parameters, [cotangent], retain_graph: true, create_graph: true, allow_unused: true);
        if (vjp.Any(g => g is null || g.IsInvalid || !g.requires_grad))
            throw new NotSupportedException("a selected parameter does not influence the model's outputs");
        var pairing = space.Unflatten(vector).Zip(vjp, (v, g) => (g * v).sum()).Aggregate((a, b) => a + b);
        // The forward graph is kept: the Jᵀ pass below walks it again (a second walk of a freed graph aborts the process).
        var jv = autograd.grad([pairing], [cotangent], retain_graph: true)[0];

        var z = logits.detach().requires_grad_();
        var dz = autograd.grad([risk.LossFunction.Sum(z, batch.Targets).Times(batch.Scale)], [z], retain_graph: true, create_graph: true)[0];
        var hz = autograd.grad([(dz * jv).sum()], [z])[0];

        var jt = autograd.grad([logits], parameters, [hz]);
        return space.Flatten([.. jt]).detach();
    }
}
