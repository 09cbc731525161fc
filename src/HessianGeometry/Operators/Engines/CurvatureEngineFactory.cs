using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>Chooses the product engine of a curvature matrix (Hessian, GGN, Fisher) for an empirical risk and records why.</summary>
public static class CurvatureEngineFactory
{
    /// <summary>
    /// The engine for <paramref name="requested"/>: double backward when asked for; the analytic MLP engine when asked
    /// for or, with <see cref="HvpEngine.Auto"/>, when the model is an MLP it can read and a first product with a seeded
    /// vector over all batches matches double backward (relative difference ≤ 1e-9 in float64, 1e-4 in float32) — so a
    /// forward hook, or a layer subclass that computes something other than its type says, falls back instead of giving
    /// wrong curvature.
    /// </summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="requested">The engine asked for.</param>
    /// <param name="note">Why the engine was chosen, e.g. the layer that kept the analytic engine out.</param>
    /// <exception cref="NotSupportedException"><see cref="HvpEngine.AnalyticMlp"/> was requested for a model it cannot run.</exception>
    public static ICurvatureEngine CreateHessian(EmpiricalRisk risk, HvpEngine requested, out string note)
    {
        Guard.NotNull(risk, nameof(risk));
        if (!Enum.IsDefined(requested))
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "The HVP engine must be HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        var doubleBackward = new DoubleBackwardHessianEngine(risk);
        if (requested == HvpEngine.DoubleBackward)
        {
            note = "double backward (requested)";
            return doubleBackward;
        }
        var kernel = MlpCurvatureKernel.TryCreate(risk.Model, risk.LossFunction, risk.Parameters, risk.AnalysisParameters, risk.AnalysisValueOf, out var reason);
        if (kernel is not null)
        {
            var analytic = new AnalyticMlpHessianEngine(kernel);
            try
            {
                var relative = RelativeDifference(risk, analytic, doubleBackward);
                var tolerance = risk.DType == ScalarType.Float64 ? 1e-9 : 1e-4;
                if (relative <= tolerance)
                {
                    note = $"analytic MLP ({analytic.Describe()}); a first product matched double backward to {relative:G2} relative";
                    return analytic;
                }
                reason = $"its first product differed from double backward by {relative:G2} relative (tolerance {tolerance:G1}), so a layer does not compute what its type says";
            }
            catch (NotSupportedException ex)
            {
                reason = ex.Message;
            }
        }
        if (requested == HvpEngine.AnalyticMlp)
            throw new NotSupportedException($"HvpEngine.AnalyticMlp cannot run this model: {reason}. Use HvpEngine.Auto (falls back to double backward) or HvpEngine.DoubleBackward.");
        note = $"double backward: {reason}";
        return doubleBackward;
    }

    /// <summary>
    /// The GGN engine for <paramref name="requested"/>: the generic autograd engine (<see cref="GgnEngine"/>, any module)
    /// when double backward is requested; otherwise the analytic MLP engine (<see cref="AnalyticMlpGgnEngine"/>) when the
    /// model is an MLP it reads and a first product matches autograd's Jᵀ∇²ℓJ, else the generic engine with the reason.
    /// </summary>
    /// <param name="risk">The empirical risk (cross-entropy or MSE).</param>
    /// <param name="requested">The engine asked for.</param>
    /// <param name="note">Why the engine was chosen.</param>
    /// <exception cref="NotSupportedException">The loss has no GGN here, or <see cref="HvpEngine.AnalyticMlp"/> was requested for a model it cannot run.</exception>
    public static ICurvatureEngine CreateGgn(EmpiricalRisk risk, HvpEngine requested, out string note)
    {
        Guard.NotNull(risk, nameof(risk));
        if (!Enum.IsDefined(requested))
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "The engine must be HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        if (requested != HvpEngine.DoubleBackward)
        {
            var analytic = AnalyticMlpGgnEngine.TryCreate(risk, out var reason);
            if (analytic is not null)
            {
                note = reason;
                return analytic;
            }
            if (requested == HvpEngine.AnalyticMlp)
                throw new NotSupportedException($"HvpEngine.AnalyticMlp cannot run the GGN of this model: {reason}. Use HvpEngine.Auto (falls back to the generic autograd GGN engine) or HvpEngine.DoubleBackward.");
            note = $"generic GGN (Jᵀ Λ J by autograd, J v by the double-vjp trick, or by a materialised Jacobian once a cached batch has paid for it): {reason}";
            return new GgnEngine(risk);
        }
        note = "generic GGN (Jᵀ Λ J by autograd, J v by the double-vjp trick, or by a materialised Jacobian once a cached batch has paid for it; requested)";
        return new GgnEngine(risk);
    }

    /// <summary>The Monte-Carlo Fisher engine with <paramref name="samples"/> labels per input, seeded.</summary>
    /// <param name="risk">The empirical risk (cross-entropy or MSE).</param>
    /// <param name="samples">k, labels drawn per input.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <param name="note">What the engine computes, for reports.</param>
    public static ICurvatureEngine CreateFisher(EmpiricalRisk risk, int samples, long seed, out string note)
    {
        var engine = new MonteCarloFisherEngine(risk, samples, seed);
        note = $"Monte-Carlo Fisher ({samples} sampled label(s) per input, seed {seed}; Jᵀ M J by double-vjp autograd, or by a materialised Jacobian once a cached batch has paid for it)";
        return engine;
    }

    /// <summary>The empirical Fisher engine (true labels).</summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="note">What the engine computes, for reports.</param>
    public static ICurvatureEngine CreateEmpiricalFisher(EmpiricalRisk risk, out string note)
    {
        var engine = new EmpiricalFisherEngine(risk);
        note = "empirical Fisher (mean of per-sample gradient outer products, true labels; Jᵀ g gᵀ J by double-vjp autograd, or by a materialised Jacobian once a cached batch has paid for it)";
        return engine;
    }

    private static double RelativeDifference(EmpiricalRisk risk, AnalyticMlpHessianEngine candidate, DoubleBackwardHessianEngine reference)
    {
        using var scope = NewDisposeScope();
        var v = RandomVectors.Gaussian(risk.Dimension, null, RandomVectors.CreateGenerator(20260301), risk.DType, risk.Device);
        Tensor a = zeros_like(v), b = zeros_like(v);
        risk.ForEachBatch(batch =>
        {
            a.add_(candidate.Prepare(batch).Product(v, keep: false));
            b.add_(reference.Prepare(batch).Product(v, keep: false));
        });
        var scale = b.norm().to(ScalarType.Float64).item<double>();
        var difference = (a - b).norm().to(ScalarType.Float64).item<double>();
        return difference == 0 ? 0 : difference / Math.Max(scale, double.Epsilon);
    }
}
