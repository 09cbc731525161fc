using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Alignment of Hessian eigenvectors with the reinforcing gradients of the training inputs (Sabanayagam, Behrens,
/// Adomaityte, Dawid 2025, "Unveiling the Hessian's Connection to the Decision Boundary"):
/// A_i(x) = ⟨g(x), v_i⟩ / (‖g(x)‖ ‖v_i‖), a signed cosine, defined as 0 when ‖g(x)‖ ≤ 1e-140 (1e-15 in a float32
/// analysis), where its norm underflows; and the per-eigenvector
/// statistics m_i = (1/n) Σ_x |A_i(x)| and max_x |A_i(x)|.
/// </summary>
/// <remarks>
/// The products ⟨g(x_j), v_i⟩ come from batched passes (the per-layer formulas for Linear <c>Sequential</c> models,
/// otherwise the double-vjp trick), never from one backward per input; see <see cref="ReinforcingGradients"/>.
/// </remarks>
public static class AlignmentAnalyzer
{
    /// <summary>Computes the alignment of every input with every eigenvector.</summary>
    /// <param name="risk">The empirical risk of the Hessian whose eigenvectors these are; its analysis dtype is used throughout.</param>
    /// <param name="inputs">The inputs x_j, shape [n, ...] (usually the training inputs).</param>
    /// <param name="eigenvectors">V, shape [p, k] (one eigenvector per column; Float64 from the eigen-solvers is converted).</param>
    /// <param name="options">Label choice, batch size and fast paths.</param>
    /// <param name="cancellationToken">Checked once per batch.</param>
    public static AlignmentResult Compute(EmpiricalRisk risk, Tensor inputs, Tensor eigenvectors, AlignmentOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        options = ReinforcingGradients.CheckOptions(options);
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        var v = ReinforcingLoss.PrepareDirections(risk, eigenvectors, nameof(eigenvectors));
        var columnNorms = v.to(ScalarType.Float64).norm(0, keepdim: false);
        if (!(columnNorms.min().to(ScalarType.Float64).item<double>() > 0))
            throw new ArgumentException("An eigenvector column is zero, so its alignment (a cosine) is undefined. Pass non-zero eigenvectors.", nameof(eigenvectors));
        var labels = options.UseTrueLabels ? TrueLabels(risk, x) : null;
        if (labels is not null)
            labels = ReinforcingLoss.PrepareLabels(risk, labels, x.shape[0], ReinforcingLoss.ClassCount(risk, x), "the operator's targets");
        else
            ReinforcingLoss.ClassCount(risk, x);

        var q = ReinforcingGradients.Compute(risk, x, labels, v, wantNorms: true, options, cancellationToken);
        var norms = q.Norms!.to(ScalarType.Float64).cpu();
        var products = q.Products!.to(ScalarType.Float64).cpu();
        var denominator = norms.unsqueeze(1) * columnNorms.cpu().unsqueeze(0);
        var defined = (norms > ReinforcingLoss.ZeroGradientNorm(risk.DType)).unsqueeze(1);
        // |cos| ≤ 1 holds exactly; the clamp only removes rounding above 1.
        var alignment = where(defined, products / where(defined, denominator, ones_like(denominator)), zeros_like(products)).clamp(-1.0, 1.0);
        var absolute = alignment.abs();
        var result = new AlignmentResult(
            alignment.contiguous().MoveToOuterDisposeScope(),
            absolute.mean([0L]).data<double>().ToArray(),
            absolute.amax([0L]).data<double>().ToArray(),
            norms.data<double>().ToArray(),
            q.Classes.cpu().data<long>().ToArray(),
            q.Gaps.to(ScalarType.Float64).cpu().data<double>().ToArray());
        return result;
    }

    /// <summary>The operator's in-memory targets, provided the inputs are exactly its data inputs.</summary>
    internal static Tensor TrueLabels(EmpiricalRisk risk, Tensor inputs)
    {
        var data = risk.Data;
        if (data.Inputs is null || data.Targets is null)
        {
            throw new InvalidOperationException(
                "UseTrueLabels needs the operator's in-memory targets, but its data is a sequence of batches. Build the operator with DataSource.FromTensors, " +
                "or call ReinforcingGradients with explicit labels.");
        }
        var own = risk.PrepareInputs(data.Inputs);
        if (!own.shape.SequenceEqual(inputs.shape) || !own.eq(inputs).all().item<bool>())
        {
            throw new ArgumentException(
                "UseTrueLabels reads the operator's own targets, so the inputs must be the operator's data inputs (same rows, same order). " +
                "Pass risk.Data.Inputs, or call ReinforcingGradients with explicit labels for other inputs.", nameof(inputs));
        }
        return data.Targets;
    }
}
