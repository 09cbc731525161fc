using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Generalised Gauss–Newton products G v = Jᵀ (∂²L/∂z²) J v of a plain MLP (the models <see cref="HvpEngine.AnalyticMlp"/>
/// reads: <c>Sequential</c> of Linear layers and ReLU, Tanh, Sigmoid, SiLU, exact GELU, Identity, eval-mode Dropout)
/// under cross-entropy or MSE, without autograd: an R-forward pass for J v, the loss Hessian in output space, and a
/// plain backward pass for Jᵀ. Cheaper than the analytic Hessian product, which also carries the residual terms
/// (docs/operators.md, "Analytic GGN engine"; docs/benchmarks.md, "GGN products").
/// </summary>
public sealed class AnalyticMlpGgnEngine : ICurvatureEngine
{
    private readonly MlpGgnKernel kernel;

    private AnalyticMlpGgnEngine(MlpGgnKernel kernel) => this.kernel = kernel;

    /// <inheritdoc />
    public string Name => "AnalyticMlpGgn";

    /// <summary>The layers, e.g. "Linear(2→5) → ReLU → Linear(5→3)".</summary>
    public string Describe() => kernel.Describe();

    /// <inheritdoc />
    public IBatchCurvature Prepare(RiskBatch batch)
    {
        Guard.NotNull(batch, nameof(batch));
        return new MlpKernelBatch(kernel, kernel.Prepare(batch.Inputs, batch.Targets, batch.Scale));
    }

    /// <summary>
    /// The engine for <paramref name="risk"/>, or null with the reason when the model is not an MLP the engine reads or a
    /// first product with a seeded vector over all batches differs from autograd's Jᵀ (∂²L/∂z²) J v
    /// (<see cref="DoubleVjpGgnProduct"/>) by more than 1e-9 relative in float64 (1e-4 in float32) — so a layer subclass
    /// or hook that computes something other than its type says falls back instead of giving a wrong GGN.
    /// </summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="note">On success, the layers and how well the first product matched; otherwise why the engine cannot run.</param>
    public static AnalyticMlpGgnEngine? TryCreate(EmpiricalRisk risk, out string note)
    {
        Guard.NotNull(risk, nameof(risk));
        var network = MlpNetwork.TryCreate(risk.Model, risk.LossFunction, risk.Parameters, risk.AnalysisParameters, risk.AnalysisValueOf, out note);
        if (network is null)
            return null;
        var engine = new AnalyticMlpGgnEngine(new MlpGgnKernel(network));
        try
        {
            var relative = FirstProductDifference(risk, engine);
            var tolerance = risk.DType == ScalarType.Float64 ? 1e-9 : 1e-4;
            if (relative <= tolerance)
            {
                note = $"analytic MLP GGN ({engine.Describe()}); a first product matched autograd's Jᵀ∇²ℓJ to {relative:G2} relative";
                return engine;
            }
            note = $"its first product differed from autograd's Jᵀ∇²ℓJ by {relative:G2} relative (tolerance {tolerance:G1}), so a layer does not compute what its type says";
        }
        catch (NotSupportedException ex)
        {
            note = ex.Message;
        }
        return null;
    }

    private static double FirstProductDifference(EmpiricalRisk risk, AnalyticMlpGgnEngine engine)
    {
        using var scope = NewDisposeScope();
        var v = RandomVectors.Gaussian(risk.Dimension, null, RandomVectors.CreateGenerator(20260302), risk.DType, risk.Device);
        Tensor a = zeros_like(v), b = zeros_like(v);
        risk.ForEachBatch(batch =>
        {
            a.add_(engine.Prepare(batch).Product(v, keep: false));
            b.add_(DoubleVjpGgnProduct.Compute(risk, batch, v));
        });
        var scale = b.norm().to(ScalarType.Float64).item<double>();
        var difference = (a - b).norm().to(ScalarType.Float64).item<double>();
        return difference == 0 ? 0 : difference / Math.Max(scale, double.Epsilon);
    }
}
