using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Reinforcing gradients (Sabanayagam, Behrens, Adomaityte, Dawid 2025, "Unveiling the Hessian's Connection to the
/// Decision Boundary"): for an input x, g(x) = ∂ℓ(θ; x, ŷ)/∂θ with ŷ = argmax f_θ(x), the gradient of the loss at the
/// model's own prediction (for MSE the target is one-hot(ŷ)); optionally at a given label instead. Everything runs
/// through <see cref="EmpiricalRisk.Forward"/> and <see cref="EmpiricalRisk.AnalysisParameters"/>, so a
/// float64 analysis of a float32 model works in float64 throughout.
/// </summary>
/// <remarks>
/// <para>
/// ⟨g(x_j), v⟩ for all inputs at once is a Jacobian-vector product of the per-sample loss vector ℓ ∈ ℝ^b. Without
/// forward-mode AD it comes from the double-vjp trick: with a dummy u ∈ ℝ^b that requires grad,
/// s(u) = ∇_θ (uᵀℓ) = Σ_j u_j g(x_j) is built with <c>create_graph</c>, and ∇_u ⟨s(u), v⟩ = [⟨g(x_j), v⟩]_j. That is one
/// first-order pass per batch and one second backward per direction and batch.
/// </para>
/// <para>
/// For a plain <c>Sequential</c> of Linear layers and per-sample parameter-free modules (activations, eval-mode dropout,
/// flatten) a faster path needs one forward and one backward per batch: per layer, with layer input a_j and output
/// gradient δ_j, ‖g_j‖² gets ‖δ_j‖²‖a_j‖² (+ ‖δ_j‖² for the bias) and ⟨g_j, v⟩ gets δ_jᵀ V_W a_j + δ_jᵀ v_b. It is used only
/// when every selected parameter belongs to a Linear layer of that chain; any other model gets a loop of per-sample
/// gradients for the norms and the double-vjp pass for the products.
/// </para>
/// </remarks>
public static class ReinforcingGradients
{
    /// <summary>
    /// Explicit per-sample reinforcing gradients, one autograd pass per input: G[j] = g(x_j), shape [n, p] in the
    /// analysis dtype. Memory is n·p; meant for tests and small n.
    /// </summary>
    /// <param name="risk">The empirical risk (model, loss, parameter selection, analysis dtype).</param>
    /// <param name="inputs">Inputs [n, ...].</param>
    /// <param name="labels">Targets [n] (or regression targets [n, C]); null uses ŷ = argmax f_θ(x).</param>
    /// <param name="cancellationToken">Checked once per input.</param>
    public static Tensor PerSample(EmpiricalRisk risk, Tensor inputs, Tensor? labels = null, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        var n = x.shape[0];
        var classes = ReinforcingLoss.ClassCount(risk, x);
        var y = ReinforcingLoss.PrepareLabels(risk, labels, n, classes, nameof(labels));
        var result = empty(n, risk.Dimension, dtype: risk.DType, device: risk.Device);
        for (long j = 0; j < n; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            result[j].copy_(SampleGradient(risk, x.narrow(0, j, 1), y?.narrow(0, j, 1)));
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>‖g(x_j)‖ for every input, shape [n] in the analysis dtype.</summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="inputs">Inputs [n, ...].</param>
    /// <param name="labels">Targets [n]; null uses ŷ.</param>
    /// <param name="options">Batch size and the Linear fast path (<see cref="AlignmentOptions.UseFastPerSampleNorms"/>); <see cref="AlignmentOptions.UseTrueLabels"/> is ignored here (pass <paramref name="labels"/>).</param>
    /// <param name="cancellationToken">Checked once per batch (once per input in the per-sample fallback).</param>
    public static Tensor Norms(EmpiricalRisk risk, Tensor inputs, Tensor? labels = null, AlignmentOptions? options = null, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        options = CheckOptions(options);
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        var y = ReinforcingLoss.PrepareLabels(risk, labels, x.shape[0], ReinforcingLoss.ClassCount(risk, x), nameof(labels));
        var q = Compute(risk, x, y, null, wantNorms: true, options, cancellationToken);
        return q.Norms!.MoveToOuterDisposeScope();
    }

    /// <summary>D[j, i] = ⟨g(x_j), v_i⟩ for every input and direction, shape [n, k] in the analysis dtype.</summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="inputs">Inputs [n, ...].</param>
    /// <param name="directions">Directions V, shape [p, k] in any floating dtype (eigenvectors come as Float64).</param>
    /// <param name="labels">Targets [n]; null uses ŷ.</param>
    /// <param name="options">Batch size and the Linear fast path (<see cref="AlignmentOptions.UseFastDirectionalDerivatives"/>).</param>
    /// <param name="cancellationToken">Checked once per batch.</param>
    public static Tensor DirectionalDerivatives(EmpiricalRisk risk, Tensor inputs, Tensor directions, Tensor? labels = null,
        AlignmentOptions? options = null, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        options = CheckOptions(options);
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        var v = ReinforcingLoss.PrepareDirections(risk, directions, nameof(directions));
        var y = ReinforcingLoss.PrepareLabels(risk, labels, x.shape[0], ReinforcingLoss.ClassCount(risk, x), nameof(labels));
        var q = Compute(risk, x, y, v, wantNorms: false, options, cancellationToken);
        return q.Products!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// True when the risk's model is a plain <c>Sequential</c> chain of Linear layers and per-sample parameter-free
    /// modules with every selected parameter in a Linear layer, so the closed-form per-layer path applies.
    /// </summary>
    public static bool CanUseLinearFastPath(EmpiricalRisk risk)
    {
        Guard.NotNull(risk, nameof(risk));
        return LinearChain.TryCreate(risk) is not null;
    }

    internal static AlignmentOptions CheckOptions(AlignmentOptions? options)
    {
        options ??= new AlignmentOptions();
        Guard.Positive(options.BatchSize, "AlignmentOptions.BatchSize", "Pass at least 1 (default 1024).");
        return options;
    }

    /// <summary>
    /// The batched driver behind the public methods: norms and/or directional derivatives, with ŷ and logit gaps, for
    /// prepared inputs. Results are tensors [n] / [n, k] in the caller's dispose scope.
    /// </summary>
    internal static BatchQuantities Compute(EmpiricalRisk risk, Tensor x, Tensor? labels, Tensor? directions, bool wantNorms,
        AlignmentOptions options, CancellationToken cancellationToken)
    {
        using var grad = enable_grad();
        var n = x.shape[0];
        var chain = options.UseFastPerSampleNorms || options.UseFastDirectionalDerivatives ? LinearChain.TryCreate(risk) : null;
        var norms = wantNorms ? empty(n, dtype: risk.DType, device: risk.Device) : null;
        var products = directions is null ? null : empty(n, directions.shape[1], dtype: risk.DType, device: risk.Device);
        var classes = empty(n, dtype: ScalarType.Int64, device: risk.Device);
        var gaps = empty(n, dtype: risk.DType, device: risk.Device);
        for (long start = 0; start < n; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var b = Math.Min(options.BatchSize, n - start);
            var xb = x.narrow(0, start, b);
            var yb = labels?.narrow(0, start, b);
            var fastNorms = norms is not null && options.UseFastPerSampleNorms && chain is not null;
            var fastProducts = products is not null && options.UseFastDirectionalDerivatives && chain is not null;
            BatchQuantities? fast = null;
            if (fastNorms || fastProducts)
            {
                fast = chain!.Run(risk, xb, yb, fastNorms, fastProducts ? directions : null);
                if (fast is null)
                {
                    // The structure qualified but a layer saw an input that is not [b, in]: use autograd from here on.
                    chain = null;
                    fastNorms = fastProducts = false;
                }
            }
            Tensor batchClasses, batchGaps;
            if (fast is not null)
            {
                (batchClasses, batchGaps) = (fast.Classes, fast.Gaps);
            }
            else
            {
                using var _ = no_grad();
                var output = risk.Forward(xb);
                ReinforcingLoss.CheckOutput(output, b);
                (batchClasses, batchGaps) = ReinforcingLoss.Predictions(output);
            }
            var targets = yb ?? batchClasses;
            classes.narrow(0, start, b).copy_(batchClasses);
            gaps.narrow(0, start, b).copy_(batchGaps);
            if (norms is not null)
                norms.narrow(0, start, b).copy_(fastNorms ? fast!.Norms! : LoopNorms(risk, xb, targets, cancellationToken));
            if (products is not null)
                products.narrow(0, start, b).copy_(fastProducts ? fast!.Products! : DoubleVjp(risk, xb, targets, directions!));
        }
        return new BatchQuantities(norms, products, classes, gaps);
    }

    /// <summary>g(x) for one input row [1, ...] and its target [1] (flat, [p]).</summary>
    private static Tensor SampleGradient(EmpiricalRisk risk, Tensor row, Tensor? target)
    {
        var output = risk.Forward(row);
        ReinforcingLoss.CheckOutput(output, 1);
        var loss = ReinforcingLoss.PerSample(risk, output, ReinforcingLoss.Targets(output, target)).sum();
        return ReinforcingLoss.FlatGradient(risk, loss, createGraph: false);
    }

    /// <summary>The correct-for-any-model fallback: ‖g(x_j)‖ from one backward per input.</summary>
    private static Tensor LoopNorms(EmpiricalRisk risk, Tensor xb, Tensor targets, CancellationToken cancellationToken)
    {
        var b = xb.shape[0];
        var norms = empty(b, dtype: risk.DType, device: risk.Device);
        for (long j = 0; j < b; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            norms[j].copy_(SampleGradient(risk, xb.narrow(0, j, 1), targets.narrow(0, j, 1)).norm());
        }
        return norms;
    }

    /// <summary>
    /// [⟨g(x_j), v_i⟩]_{j,i} for a batch by the double-vjp trick: s(u) = ∇_θ(uᵀℓ) with create_graph, then
    /// ∇_u ⟨s(u), v_i⟩ for each column. The value of u is irrelevant (s is linear in u); zeros keep s = 0 numerically.
    /// </summary>
    private static Tensor DoubleVjp(EmpiricalRisk risk, Tensor xb, Tensor targets, Tensor directions)
    {
        var b = xb.shape[0];
        var k = directions.shape[1];
        var output = risk.Forward(xb);
        ReinforcingLoss.CheckOutput(output, b);
        var losses = ReinforcingLoss.PerSample(risk, output, targets);
        var u = zeros(b, dtype: losses.dtype, device: losses.device).requires_grad_(true);
        var weighted = ReinforcingLoss.FlatGradient(risk, (u * losses).sum(), createGraph: true);
        var result = zeros(b, k, dtype: risk.DType, device: risk.Device);
        if (!weighted.requires_grad)
            return result;
        for (var i = 0; i < k; i++)
        {
            using var column = NewDisposeScope();
            var v = directions[.., i].contiguous();
            var jvp = torch.autograd.grad([weighted], [u], grad_outputs: [v], retain_graph: i < k - 1, allow_unused: true);
            if (jvp[0] is not null && !jvp[0].IsInvalid)
                result[.., i].copy_(jvp[0]);
        }
        return result;
    }
}
