using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// The alignment of many eigenvectors at once as dense linear algebra: with the per-sample reinforcing gradients as an
/// explicit n×p matrix G (row j = g(x_j)) and the eigenvectors as the columns of V, A = D_G⁻¹ (G V) D_V⁻¹, with D_G
/// and D_V the diagonal matrices of ‖g(x_j)‖ and ‖v_i‖ (Sabanayagam, Behrens, Adomaityte, Dawid 2025, "Unveiling the
/// Hessian's Connection to the Decision Boundary"). The same quantities as <see cref="AlignmentAnalyzer.Compute"/>,
/// for the case where k is large (all p eigenvectors of the exact Hessian, for the complete boundary complexity).
/// </summary>
/// <remarks>
/// <para>
/// The per-layer closed forms of <see cref="ReinforcingGradients"/> contract each direction with the layer's
/// activations separately, which for k ≈ p directions builds [b, out·k] intermediates many times the size of V. Here
/// G is built once (n·p numbers: one forward and one backward for a Linear <c>Sequential</c>, where the weight block of
/// g(x_j) is δ_j ⊗ a_j; one backward per input for any other model) and the whole alignment is one GEMM, done over
/// blocks of <see cref="DefaultColumnBlock"/> eigenvectors so that the extra memory is n·p plus one block of V
/// (converted to the analysis dtype) and its n×block product.
/// </para>
/// <para>The cosine is set to 0 where ‖g(x_j)‖ ≤ 1e-140 (1e-15 in a float32 analysis), as in <see cref="AlignmentAnalyzer"/>.</para>
/// </remarks>
public static class AlignmentMatrix
{
    /// <summary>Eigenvectors per GEMM block (p·2048·8 bytes = 175 MB of float64 for p = 10,703).</summary>
    public const int DefaultColumnBlock = 2048;

    /// <summary>
    /// Explicit reinforcing gradients G, shape [n, p] in the analysis dtype: the Linear fast path for a plain
    /// <c>Sequential</c> chain (<see cref="ReinforcingGradients.CanUseLinearFastPath"/>), otherwise one autograd pass
    /// per input (<see cref="ReinforcingGradients.PerSample"/>). Returns ŷ and the logit gaps too.
    /// </summary>
    /// <param name="risk">The empirical risk (model, loss, parameter selection, analysis dtype).</param>
    /// <param name="inputs">Prepared inputs [n, ...].</param>
    /// <param name="labels">Prepared targets, or null for ŷ = argmax f_θ(x).</param>
    /// <param name="options">Batch size and whether the Linear fast path may be used (<see cref="AlignmentOptions.UseFastDirectionalDerivatives"/>).</param>
    /// <param name="cancellationToken">Checked once per batch (per input on the generic path).</param>
    internal static (Tensor Gradients, Tensor Classes, Tensor Gaps) ReinforcingGradientMatrix(EmpiricalRisk risk, Tensor inputs, Tensor? labels,
        AlignmentOptions options, CancellationToken cancellationToken)
    {
        using var grad = enable_grad();
        var n = inputs.shape[0];
        var chain = options.UseFastDirectionalDerivatives ? LinearChain.TryCreate(risk) : null;
        var gradients = empty(n, risk.Dimension, dtype: risk.DType, device: risk.Device);
        var classes = empty(n, dtype: ScalarType.Int64, device: risk.Device);
        var gaps = empty(n, dtype: risk.DType, device: risk.Device);
        for (long start = 0; start < n; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var b = Math.Min(options.BatchSize, n - start);
            var xb = inputs.narrow(0, start, b);
            var yb = labels?.narrow(0, start, b);
            var fast = chain?.Gradients(risk, xb, yb);
            if (fast is { } f)
            {
                gradients.narrow(0, start, b).copy_(f.Gradients);
                classes.narrow(0, start, b).copy_(f.Classes);
                gaps.narrow(0, start, b).copy_(f.Gaps);
                continue;
            }
            // Not a qualifying chain (or a layer saw an input that is not [b, in]): per-sample autograd from here on.
            chain = null;
            using (no_grad())
            {
                var output = risk.Forward(xb);
                ReinforcingLoss.CheckOutput(output, b);
                var (batchClasses, batchGaps) = ReinforcingLoss.Predictions(output);
                classes.narrow(0, start, b).copy_(batchClasses);
                gaps.narrow(0, start, b).copy_(batchGaps);
            }
            var targets = yb ?? classes.narrow(0, start, b);
            gradients.narrow(0, start, b).copy_(ReinforcingGradients.PerSample(risk, xb, targets, cancellationToken));
        }
        return (gradients, classes, gaps);
    }

    /// <summary>
    /// Computes the alignment of every input with every column of <paramref name="eigenvectors"/> by one blocked GEMM;
    /// equal to <see cref="AlignmentAnalyzer.Compute"/> up to rounding (the tests hold them to 1e-12 in float64).
    /// </summary>
    /// <param name="risk">The empirical risk of the Hessian whose eigenvectors these are; its analysis dtype is used throughout.</param>
    /// <param name="inputs">The inputs x_j, shape [n, ...].</param>
    /// <param name="eigenvectors">V, shape [p, k], floating point; each block of columns is validated and, if its dtype differs, converted to the analysis dtype on its own.</param>
    /// <param name="options">Label choice, batch size and the Linear fast path.</param>
    /// <param name="columnBlock">Eigenvectors per GEMM block (memory: p·block numbers plus n·block).</param>
    /// <param name="cancellationToken">Checked once per batch of inputs and once per block of eigenvectors.</param>
    public static AlignmentResult Compute(EmpiricalRisk risk, Tensor inputs, Tensor eigenvectors, AlignmentOptions? options = null,
        int columnBlock = DefaultColumnBlock, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        options = ReinforcingGradients.CheckOptions(options);
        Guard.Positive(columnBlock, nameof(columnBlock), $"Pass the number of eigenvectors per block, e.g. {DefaultColumnBlock}.");
        Guard.Valid(eigenvectors, nameof(eigenvectors));
        if (eigenvectors.dim() != 2 || eigenvectors.shape[0] != risk.Dimension || eigenvectors.shape[1] < 1)
            throw new ArgumentException($"eigenvectors must have shape [{risk.Dimension}, k] (one column per eigenvector, p = {risk.Dimension} parameters) but has shape {Guard.Shape(eigenvectors)}.", nameof(eigenvectors));
        if (!eigenvectors.is_floating_point())
            throw new ArgumentException($"eigenvectors has dtype {eigenvectors.dtype}; pass floating-point eigenvectors (the solvers return Float64).", nameof(eigenvectors));
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        var labels = options.UseTrueLabels ? AlignmentAnalyzer.TrueLabels(risk, x) : null;
        if (labels is not null)
            labels = ReinforcingLoss.PrepareLabels(risk, labels, x.shape[0], ReinforcingLoss.ClassCount(risk, x), "the operator's targets");
        else
            ReinforcingLoss.ClassCount(risk, x);

        var (gradients, classes, gaps) = ReinforcingGradientMatrix(risk, x, labels, options, cancellationToken);
        var norms = gradients.norm(1).to(ScalarType.Float64);
        var defined = (norms > ReinforcingLoss.ZeroGradientNorm(risk.DType)).unsqueeze(1);
        var rowScale = where(defined, norms.unsqueeze(1), ones_like(norms.unsqueeze(1)));
        var n = x.shape[0];
        var k = eigenvectors.shape[1];
        var alignment = empty(n, k, dtype: ScalarType.Float64);
        for (long start = 0; start < k; start += columnBlock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var width = Math.Min(columnBlock, k - start);
            // The block is used as a strided view (no contiguous copy) and checked through its column norms, which are
            // non-finite exactly when a column holds NaN or Inf: a separate isfinite pass or copy of V costs more than the GEMM.
            var v = eigenvectors.narrow(1, start, width).detach();
            if (v.dtype != risk.DType)
                v = v.to(risk.DType);
            if (!Guard.SameDevice(v.device, risk.Device))
                v = v.to(risk.Device);
            var columnNorms = ColumnNorms(v);
            var smallest = columnNorms.min().item<double>();
            if (!double.IsFinite(columnNorms.sum().item<double>()))
                throw new ArithmeticException("eigenvectors contains NaN or Inf. Pass finite directions.");
            if (!(smallest > 0))
                throw new ArgumentException("An eigenvector column is zero, so its alignment (a cosine) is undefined. Pass non-zero eigenvectors.", nameof(eigenvectors));
            var products = gradients.mm(v).to(ScalarType.Float64);
            // |cos| ≤ 1 holds exactly; the clamp only removes rounding above 1.
            var cosines = where(defined, products / (rowScale * columnNorms.unsqueeze(0)), zeros_like(products)).clamp(-1.0, 1.0);
            alignment.narrow(1, start, width).copy_(cosines);
        }
        var absolute = alignment.abs();
        return new AlignmentResult(
            alignment.MoveToOuterDisposeScope(),
            absolute.mean([0L]).data<double>().ToArray(),
            absolute.amax([0L]).data<double>().ToArray(),
            norms.cpu().data<double>().ToArray(),
            classes.cpu().data<long>().ToArray(),
            gaps.to(ScalarType.Float64).cpu().data<double>().ToArray());
    }
    /// <summary>
    /// ‖v_i‖₂ of every column in float64. libtorch's column reduction <c>norm(0)</c> of a [p, k] row-major block reads it
    /// at a fraction of memory speed (at p = 10,703 it cost more than the GEMM itself), so the squares are accumulated
    /// one contiguous row segment at a time. A non-finite sum (NaN/Inf in a column, or squares that overflow) is
    /// recomputed with each column scaled by its largest entry, which tells the two apart.
    /// </summary>
    internal static Tensor ColumnNorms(Tensor block)
    {
        using var scope = NewDisposeScope();
        var v = block.dtype == ScalarType.Float64 ? block : block.to(ScalarType.Float64);
        var squares = zeros(v.shape[1], dtype: ScalarType.Float64, device: v.device);
        for (long row = 0; row < v.shape[0]; row++)
        {
            using var entries = v.select(0, row);
            squares.addcmul_(entries, entries, 1.0);
        }
        if (double.IsFinite(squares.sum().item<double>()))
            return squares.sqrt_().MoveToOuterDisposeScope();
        // Scaled by each column's largest |entry|, so finite columns whose squares overflow keep their true norm;
        // a NaN or Inf entry still gives a non-finite norm.
        var largest = v.abs().amax([0L]);
        var safe = where(largest > 0, largest, ones_like(largest));
        return ((v / safe.unsqueeze(0)).norm(0, keepdim: false) * safe).MoveToOuterDisposeScope();
    }
}
