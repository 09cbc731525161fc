using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;
using Step = HessianGeometry.Operators.Engines.MlpStep;

namespace HessianGeometry.Spectrum;

/// <summary>
/// tr(H) and tr(H²) = ‖H‖²_F of the empirical-risk Hessian of a network with one hidden layer,
/// f(x) = W₂ σ(W₁x + b₁) + b₂, in closed form from the weights, the hidden width and the Gram matrices of the inputs
/// and hidden activations, without forming H: the traces behind the Wolkowicz–Styan bounds of arXiv 2604.10202, exact.
/// </summary>
/// <remarks>
/// <para>
/// With s = 1/n, per sample i: A_i = ∂²ℓ_i/∂f² · s and g_i = ∂ℓ_i/∂f · s (cross-entropy: s(diag p − ppᵀ), s(p − y);
/// MSE: (2s/c) I, (2s/c)(f − t)), D_i = diag σ′(z_i), e_i = σ″(z_i) ⊙ W₂ᵀg_i, M_i = D_iW₂ᵀA_iW₂D_i + diag e_i (the
/// pre-activation Hessian), u_i = the selected inputs of layer 1 (x_i, [x_i; 1] or [1]) and v_i those of layer 2
/// (a_i = σ(z_i), [a_i; 1] or [1]). Then H_i has the blocks H₁₁ = M_i ⊗ u_iu_iᵀ, H₂₂ = A_i ⊗ v_iv_iᵀ and
/// H₂₁ = B_i ⊗ u_iᵀ with B_i[(k,m), j] = (A_iW₂D_i)[k,j] v_i[m] + g_i[k] δ_mj σ′_j(z_i) (the second term for the a-part
/// of v only), and since ⟨P ⊗ Q, P′ ⊗ Q′⟩ = ⟨P, P′⟩⟨Q, Q′⟩,
/// ‖H‖²_F = Σ_ij ⟨M_i, M_j⟩(u_i·u_j)² + ⟨A_i, A_j⟩(v_i·v_j)² + 2⟨B_i, B_j⟩(u_i·u_j), where every inner product
/// reduces to c×c matrices through K_ij = W₂ diag(σ′(z_i) ⊙ σ′(z_j)) W₂ᵀ (docs/spectrum.md has the derivation).
/// </para>
/// <para>
/// Cost: quadratic in n. While the per-sample features fit (n(h² + 3ch + c²) ≤ 2²⁵ elements) the pair sums are Gram
/// matrices, O(n²(h² + ch + d)) multiply-adds in large matrix products; otherwise blocks of pairs go through K_ij,
/// O(n²(h c² + c³ + d)) and O(n(d + h + c²)) memory. A dense Hessian costs O(n h²(d + c)²) and p² memory, so the
/// closed form is faster when n is below about (d + c)² and never needs the p² matrix; docs/spectrum.md and
/// docs/benchmarks.md have the comparison.
/// </para>
/// <para>
/// Piecewise-linear activations (ReLU): σ″ = 0 wherever it exists, which is how autograd differentiates ReLU, so the
/// formula gives the traces of the same Hessian double backward gives (exact almost everywhere in θ; at a kink the
/// Hessian is undefined and both take the one-sided derivative σ′(0) = 0).
/// </para>
/// </remarks>
public static class OneHiddenLayerTraces
{
    /// <summary>Elements of the largest intermediate of one block of sample pairs.</summary>
    private const long PairBlockElements = 1L << 22;

    /// <summary>
    /// The traces, or null with the reason when the model is not Linear → activation → Linear under cross-entropy or
    /// MSE (as the analytic engine's reader sees it: ReLU, Tanh, Sigmoid, SiLU or exact GELU; biases optional; any
    /// selection of the four parameter tensors).
    /// </summary>
    /// <param name="risk">The empirical risk; its model is only read.</param>
    /// <param name="cancellationToken">Checked between batches and between blocks of sample pairs.</param>
    /// <param name="reason">Why the closed form does not apply; empty on success.</param>
    public static ClosedFormTraces? TryCompute(EmpiricalRisk risk, CancellationToken cancellationToken, out string reason) =>
        TryCompute(risk, cancellationToken, FeatureElements, out reason);

    /// <summary>
    /// Most elements of the per-sample feature matrices (n·(h² + 3ch + c²)) for the Gram route; above it the pairs run
    /// through the c×c matrices K_ij. Both are exact; the tests force each.
    /// </summary>
    internal const long FeatureElements = 1L << 25;

    /// <summary>As the public overload, with the memory limit of the Gram route (0 forces the K_ij route).</summary>
    internal static ClosedFormTraces? TryCompute(EmpiricalRisk risk, CancellationToken cancellationToken, long featureElements, out string reason)
    {
        Guard.NotNull(risk, nameof(risk));
        using var scope = NewDisposeScope();
        var steps = ExactMlpReader.TryRead(risk, out reason);
        if (steps is null)
            return null;
        if (steps.Count != 3 || !steps[0].IsLinear || steps[1].IsLinear || !steps[2].IsLinear)
        {
            reason = $"the network is {Describe(steps)}; the closed-form traces need exactly one hidden layer (Linear → activation → Linear)";
            return null;
        }
        var network = Describe(steps);
        var layers = new Layers(steps[0], steps[1], steps[2]);
        Samples samples;
        try
        {
            samples = Collect(risk, layers, cancellationToken);
        }
        catch (NotSupportedException ex)
        {
            reason = ex.Message;
            return null;
        }
        var (c, h) = (layers.Second.Weight!.shape[0], layers.Second.Weight!.shape[1]);
        var traceOfSquare = risk.SampleCount * (h * h + 3 * c * h + c * c) <= featureElements
            ? SumOverGrams(samples, layers, cancellationToken)
            : SumOverPairs(samples, layers, cancellationToken);
        reason = "";
        return new ClosedFormTraces(samples.Trace, traceOfSquare, risk.Dimension, risk.SampleCount, network);
    }

    private static string Describe(IReadOnlyList<Step> steps) =>
        string.Join(" → ", steps.Select(s => s.IsLinear ? $"Linear({s.Weight!.shape[1]}→{s.Weight.shape[0]})" : s.Activation!.Name));

    /// <summary>The three steps and which of W₁, b₁, W₂, b₂ are selected.</summary>
    private sealed record Layers(Step First, Step Activation, Step Second)
    {
        public bool W1 => First.WeightIndex >= 0;

        public bool B1 => First.BiasIndex >= 0;

        public bool W2 => Second.WeightIndex >= 0;

        public bool B2 => Second.BiasIndex >= 0;

        public bool Layer1 => W1 || B1;

        public bool Layer2 => W2 || B2;
    }

    /// <summary>
    /// Per-sample quantities of all n samples (rows): inputs x, σ′ (S), e = σ″ ⊙ W₂ᵀg, r = σ′² ⊙ diag(W₂ᵀAW₂),
    /// activations a, A [n, c, c] and g [n, c]; and tr(H), a sum over samples.
    /// </summary>
    private sealed record Samples(Tensor X, Tensor S, Tensor E, Tensor R, Tensor Activations, Tensor OutputHessians, Tensor OutputGradients, double Trace);

    private static Samples Collect(EmpiricalRisk risk, Layers layers, CancellationToken ct)
    {
        var x = new List<Tensor>();
        var s = new List<Tensor>();
        var e = new List<Tensor>();
        var r = new List<Tensor>();
        var a = new List<Tensor>();
        var outputHessians = new List<Tensor>();
        var outputGradients = new List<Tensor>();
        var trace = 0.0;
        var w2 = layers.Second.Weight!;
        risk.ForEachBatch(batch =>
        {
            ct.ThrowIfCancellationRequested();
            using var _ = no_grad();
            var z = ExactMlpReader.Linear(layers.First, batch.Inputs);
            var (activations, first, second) = layers.Activation.Activation!.Evaluate(z);
            var logits = ExactMlpReader.Linear(layers.Second, activations);
            var (g, hessian) = ExactMlpReader.OutputDerivatives(risk.LossFunction.Kind, logits, batch.Targets, batch.Scale);
            var curvature = second is null ? zeros_like(first) : second * g.mm(w2);
            var q = (hessian.matmul(w2) * w2).sum(dim: 1);
            var ggnDiagonal = first.square() * q;

            // tr H_i = tr(M_i)‖u_i‖² + tr(A_i)‖v_i‖², the sum of the Kronecker blocks' traces.
            if (layers.Layer1)
                trace += ((ggnDiagonal + curvature).sum(dim: 1) * SquaredNorms(batch.Inputs, layers.W1, layers.B1)).sum().to(ScalarType.Float64).item<double>();
            if (layers.Layer2)
                trace += (hessian.diagonal(0, 1, 2).sum(dim: 1) * SquaredNorms(activations, layers.W2, layers.B2)).sum().to(ScalarType.Float64).item<double>();

            x.Add(batch.Inputs.detach().clone().DetachFromDisposeScope());
            s.Add(first.DetachFromDisposeScope());
            e.Add(curvature.DetachFromDisposeScope());
            r.Add(ggnDiagonal.DetachFromDisposeScope());
            a.Add(activations.DetachFromDisposeScope());
            outputHessians.Add(hessian.contiguous().DetachFromDisposeScope());
            outputGradients.Add(g.DetachFromDisposeScope());
        });
        var samples = new Samples(Cat(x), Cat(s), Cat(e), Cat(r), Cat(a), Cat(outputHessians), Cat(outputGradients), trace);
        return samples;
    }

    /// <summary>Concatenates the per-batch tensors into the current scope and frees the parts.</summary>
    private static Tensor Cat(List<Tensor> parts)
    {
        var all = cat(parts, 0);
        foreach (var part in parts)
            part.Dispose();
        return all;
    }

    /// <summary>‖u‖² for u = [features if selected; 1 if the bias is selected].</summary>
    private static Tensor SquaredNorms(Tensor features, bool weight, bool bias)
    {
        var norms = weight ? features.square().sum(dim: 1) : zeros(features.shape[0], dtype: features.dtype, device: features.device);
        return bias ? norms + 1 : norms;
    }

    /// <summary>u_I·u_J for the selected inputs of a layer: features Gram plus 1 for a selected bias.</summary>
    private static Tensor Gram(Tensor left, Tensor right, bool weight, bool bias)
    {
        var gram = weight ? left.mm(right.t()) : zeros(left.shape[0], right.shape[0], dtype: left.dtype, device: left.device);
        return bias ? gram + 1 : gram;
    }

    /// <summary>
    /// ‖H‖²_F = Σ_ij tr(H_iH_j) from Gram matrices of per-sample features, each inner product one matrix product over
    /// all pairs: vec M_i [h²], vec(A_iW₂D_i), vec(A_iW₂ diag(σ′_i ⊙ a_i)) and g_i ⊗ σ′_i [c·h], vec A_i [c²]. O(n²(h² + ch))
    /// multiply-adds, but in large matrix products, which on small c run far faster than the c×c products of
    /// <see cref="SumOverPairs"/>; used while the features fit in <see cref="FeatureElements"/>.
    /// </summary>
    private static double SumOverGrams(Samples all, Layers layers, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w2 = layers.Second.Weight!;
        var n = all.S.shape[0];
        var hessians = all.OutputHessians;
        var aw = hessians.matmul(w2);
        // M_i = D_i W₂ᵀA_iW₂ D_i + diag e_i.
        Tensor? m = null;
        if (layers.Layer1)
        {
            m = w2.t().matmul(aw) * all.S.unsqueeze(2) * all.S.unsqueeze(1);
            m.diagonal(0, 1, 2).add_(all.E);
            m = m.reshape(n, -1);
        }
        var af = layers.Layer1 && layers.Layer2 ? (aw * all.S.unsqueeze(1)).reshape(n, -1) : null;
        var z = layers.Layer1 && layers.W2 ? (aw * (all.S * all.Activations).unsqueeze(1)).reshape(n, -1) : null;
        var gs = layers.Layer1 && layers.W2 ? (all.OutputGradients.unsqueeze(2) * all.S.unsqueeze(1)).reshape(n, -1) : null;
        var flatHessians = hessians.reshape(n, -1);
        var rows = Math.Clamp(PairBlockElements / Math.Max(n, 1), 1, n);
        var total = 0.0;
        for (long i0 = 0; i0 < n; i0 += rows)
        {
            ct.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var b = Math.Min(rows, n - i0);
            Tensor Rows(Tensor t) => t.narrow(0, i0, b);
            var block = tensor(0.0, dtype: all.S.dtype, device: all.S.device);
            var vv = Gram(Rows(all.Activations), all.Activations, layers.W2, layers.B2);
            if (layers.Layer2)
                block.add_((Rows(flatHessians).mm(flatHessians.t()) * vv.square()).sum());
            if (layers.Layer1)
            {
                var uu = Gram(Rows(all.X), all.X, layers.W1, layers.B1);
                block.add_((Rows(m!).mm(m!.t()) * uu.square()).sum());
                if (layers.Layer2)
                {
                    var bb = Rows(af!).mm(af!.t()) * vv;
                    if (layers.W2)
                    {
                        bb.add_(Rows(z!).mm(gs!.t())).add_(Rows(gs!).mm(z!.t()));
                        bb.add_(Rows(all.OutputGradients).mm(all.OutputGradients.t()) * Rows(all.S).mm(all.S.t()));
                    }
                    block.add_(2 * (bb * uu).sum());
                }
            }
            total += block.to(ScalarType.Float64).item<double>();
        }
        return total;
    }

    /// <summary>‖H‖²_F = Σ_ij tr(H_iH_j), over blocks of sample pairs I ≤ J (off-diagonal blocks count twice).</summary>
    private static double SumOverPairs(Samples all, Layers layers, CancellationToken ct)
    {
        var w2 = layers.Second.Weight!;
        var (c, h) = (w2.shape[0], w2.shape[1]);
        var n = all.S.shape[0];
        var block = (long)Math.Clamp(Math.Floor(Math.Sqrt(PairBlockElements / (double)(3 * h + 5 * c * c + 8))), 1, n);
        // Y[l, (k, m)] = W₂[k, l] W₂[m, l], so that K_ij = Σ_l σ′_il σ′_jl Y[l] for all pairs in one product.
        var y = (w2.t().unsqueeze(2) * w2.t().unsqueeze(1)).reshape(h, c * c);
        var total = 0.0;
        for (long i0 = 0; i0 < n; i0 += block)
        {
            for (long j0 = i0; j0 < n; j0 += block)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var weight = i0 == j0 ? 1.0 : 2.0;
                var pair = PairBlock(all, layers, y, w2, i0, Math.Min(block, n - i0), j0, Math.Min(block, n - j0));
                total += weight * pair.to(ScalarType.Float64).item<double>();
            }
        }
        return total;
    }

    /// <summary>Σ over i ∈ I, j ∈ J of tr(H_iH_j).</summary>
    private static Tensor PairBlock(Samples all, Layers layers, Tensor y, Tensor w2, long i0, long bi, long j0, long bj)
    {
        var c = w2.shape[0];
        Tensor Rows(Tensor t, long start, long count) => t.narrow(0, start, count);
        var (sI, sJ) = (Rows(all.S, i0, bi), Rows(all.S, j0, bj));
        var (aI, aJ) = (Rows(all.OutputHessians, i0, bi), Rows(all.OutputHessians, j0, bj));
        var vv = Gram(Rows(all.Activations, i0, bi), Rows(all.Activations, j0, bj), layers.W2, layers.B2);
        var total = tensor(0.0, dtype: sI.dtype, device: sI.device);

        Tensor? k = null;
        Tensor? uu = null;
        if (layers.Layer1)
        {
            uu = Gram(Rows(all.X, i0, bi), Rows(all.X, j0, bj), layers.W1, layers.B1);
            // K_ij = W₂ diag(σ′_i ⊙ σ′_j) W₂ᵀ [bi, bj, c, c]; ⟨W₂ᵀA_iW₂ ∘ D_i², W₂ᵀA_jW₂ ∘ D_j²⟩ = tr(A_iK_ijA_jK_ij).
            k = (sI.unsqueeze(1) * sJ.unsqueeze(0)).reshape(bi * bj, -1).mm(y).reshape(bi, bj, c, c);
            var left = aI.unsqueeze(1).matmul(k);
            var right = aJ.unsqueeze(0).matmul(k);
            var mm = (left * right.transpose(2, 3)).sum([2L, 3L]);
            var (eI, eJ) = (Rows(all.E, i0, bi), Rows(all.E, j0, bj));
            var (rI, rJ) = (Rows(all.R, i0, bi), Rows(all.R, j0, bj));
            mm.add_(rI.mm(eJ.t())).add_(eI.mm(rJ.t())).add_(eI.mm(eJ.t()));
            total.add_((mm * uu.square()).sum());
        }
        if (layers.Layer2)
        {
            var aa = aI.reshape(bi, -1).mm(aJ.reshape(bj, -1).t());
            total.add_((aa * vv.square()).sum());
        }
        if (layers.Layer1 && layers.Layer2)
        {
            // ⟨B_i, B_j⟩ = tr(A_iA_jK_ij)(v_i·v_j) + [W₂ selected] (cross terms of the residual W₂–layer-1 block).
            var products = aI.unsqueeze(1).matmul(aJ.unsqueeze(0));
            var bb = (products * k!).sum([2L, 3L]) * vv;
            if (layers.W2)
            {
                var (gI, gJ) = (Rows(all.OutputGradients, i0, bi), Rows(all.OutputGradients, j0, bj));
                var (actI, actJ) = (Rows(all.Activations, i0, bi), Rows(all.Activations, j0, bj));
                // Σ_l σ′_jl (σ′_il a_il) (W₂ᵀA_ig_j)_l and the same with i and j exchanged.
                var forward = einsum("ikm,jm->ijk", aI, gJ).matmul(w2);
                bb.add_((forward * (sI * actI).unsqueeze(1) * sJ.unsqueeze(0)).sum(dim: 2));
                var backward = einsum("jkm,im->ijk", aJ, gI).matmul(w2);
                bb.add_((backward * sI.unsqueeze(1) * (sJ * actJ).unsqueeze(0)).sum(dim: 2));
                bb.add_(gI.mm(gJ.t()) * sI.mm(sJ.t()));
            }
            total.add_(2 * (bb * uu!).sum());
        }
        return total;
    }
}
