using System.Reflection;
using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Hessian-vector products of an MLP, <c>Sequential</c> of <c>Linear</c> layers and pointwise activations, under
/// cross-entropy or MSE, by Pearlmutter's R-operator written out layer by layer (no autograd).
/// </summary>
/// <remarks>
/// With h_j the output of step j, g_j = ∂L/∂h_j and R(·) the directional derivative along v = (V_l, v_l):
/// <list type="bullet">
/// <item>Linear h = a Wᵀ + b: R(h) = R(a) Wᵀ + a Vᵀ + v; backwards R(∂W) = R(g)ᵀ a + gᵀ R(a), R(∂b) = Σ R(g),
/// R(g_in) = R(g) W + g V.</item>
/// <item>Activation h = σ(z): R(h) = σ′ R(z); R(g_in) = R(g) σ′ + g σ″ R(z).</item>
/// <item>Loss: R(∂ℓ/∂z) = p ⊙ R(z) − p (pᵀ R(z)) for softmax cross-entropy, 2 R(z)/C for MSE.</item>
/// </list>
/// Double backward through autograd computes the same numbers, but also ∂W of the first-order pass, and through a
/// graph it must build and walk: on a layer of width w it costs 9 products of size n·w² per HVP when streamed, where
/// this costs 8 (7 for ReLU, whose σ″ term vanishes), and 6 on a cached batch (docs/benchmarks.md).
/// </remarks>
internal sealed class MlpCurvatureKernel
{
    private readonly Step[] steps;
    private readonly ParameterSpace space;
    private readonly LossKind lossKind;
    private readonly int lowest;
    private readonly bool[] keepOutputGradient;
    private readonly int lowestNeededGradient;

    private MlpCurvatureKernel(Step[] steps, ParameterSpace space, LossKind lossKind)
    {
        this.steps = steps;
        this.space = space;
        this.lossKind = lossKind;
        lowest = Array.FindIndex(steps, s => s.WeightIndex >= 0 || s.BiasIndex >= 0);
        // g_j is used directly by a Linear step above the lowest selected one whose weight is selected (gᵀ R(a), g V),
        // and by an activation above it with a non-zero σ″; it must be propagated down to the lowest such step.
        keepOutputGradient = new bool[steps.Length];
        lowestNeededGradient = steps.Length;
        for (int j = lowest + 1; j < steps.Length; j++)
        {
            var s = steps[j];
            keepOutputGradient[j] = s.IsLinear ? s.WeightIndex >= 0 : s.Activation!.Name != PointwiseActivation.ReLU.Name;
            if (keepOutputGradient[j])
                lowestNeededGradient = Math.Min(lowestNeededGradient, j);
        }
    }

    /// <summary>
    /// The steps in call order (Linear layers with their analysis tensors, and activations), for exact per-layer formulas
    /// that share this reader (<see cref="Spectrum.ExactHessianDiagonal"/>, <see cref="Spectrum.OneHiddenLayerTraces"/>).
    /// </summary>
    internal IReadOnlyList<Step> Steps => steps;

    /// <summary>Steps of the network, for messages.</summary>
    public string Describe() => string.Join(" → ", steps.Select(s => s.IsLinear ? $"Linear({s.Weight!.shape[1]}→{s.Weight.shape[0]})" : s.Activation!.Name));

    /// <summary>
    /// Reads the model as an MLP, or returns null with the reason it cannot. <paramref name="valueOf"/> maps a model
    /// parameter to the tensor the analysis runs on (its float64 twin, or itself).
    /// </summary>
    public static MlpCurvatureKernel? TryCreate(Module model, LossFunction loss, ParameterSpace originals, ParameterSpace analysis, Func<Tensor, Tensor> valueOf, out string reason)
    {
        if (loss.Kind is not (LossKind.CrossEntropy or LossKind.MeanSquaredError))
        {
            reason = $"the loss is {loss.Name}; the analytic engine covers cross-entropy and MSE";
            return null;
        }
        var layers = SequentialLayer.Read(model, originals, out reason);
        if (layers is null)
            return null;
        var hooked = model.modules().Prepend(model).FirstOrDefault(HasHooks);
        if (hooked is not null)
        {
            reason = $"a {hooked.GetType().Name} carries forward hooks, which the analytic engine would not run";
            return null;
        }
        var steps = new List<Step>();
        foreach (var layer in layers)
        {
            if (!TryAddStep(layer, steps, analysis, valueOf, out reason))
                return null;
        }
        if (!steps.Any(s => s.IsLinear))
        {
            reason = "the Sequential has no Linear layer";
            return null;
        }
        if (!SequentialLayer.CoverSelection(layers, originals))
        {
            reason = "some selected parameters are not weights or biases of the Sequential's Linear layers";
            return null;
        }
        reason = "";
        return new MlpCurvatureKernel([.. steps], analysis, loss.Kind);
    }

    /// <summary>Appends the step of one layer, or returns false with the reason it is not covered.</summary>
    private static bool TryAddStep(SequentialLayer layer, List<Step> steps, ParameterSpace analysis, Func<Tensor, Tensor> valueOf, out string reason)
    {
        reason = "";
        var leaf = layer.Module;
        switch (leaf)
        {
            case TorchSharp.Modules.Linear linear:
                steps.Add(new Step(
                    null,
                    layer.WeightIndex >= 0 ? analysis.Tensors[layer.WeightIndex] : valueOf(linear.weight!),
                    linear.bias is null ? null : layer.BiasIndex >= 0 ? analysis.Tensors[layer.BiasIndex] : valueOf(linear.bias),
                    layer.WeightIndex,
                    layer.BiasIndex));
                return true;
            case TorchSharp.Modules.Identity:
                return true;
            case TorchSharp.Modules.Dropout dropout when !dropout.training:
                return true;
            default:
                var activation = leaf switch
                {
                    TorchSharp.Modules.ReLU => PointwiseActivation.ReLU,
                    TorchSharp.Modules.Tanh => PointwiseActivation.Tanh,
                    TorchSharp.Modules.Sigmoid => PointwiseActivation.Sigmoid,
                    TorchSharp.Modules.SiLU => PointwiseActivation.Silu,
                    TorchSharp.Modules.GELU gelu when gelu.approximate == TorchSharp.Modules.GELU.Approximate.none => PointwiseActivation.Gelu,
                    _ => null,
                };
                if (activation is null)
                {
                    reason = $"it contains a {leaf.GetType().Name} layer; the analytic engine covers Linear, ReLU, Tanh, Sigmoid, SiLU, exact GELU, Identity and eval-mode Dropout";
                    return false;
                }
                steps.Add(new Step(activation, null, null, -1, -1));
                return true;
        }
    }

    /// <summary>
    /// True when TorchSharp's hook tables of the module are non-empty. Unknown field layouts count as "no hooks": the
    /// operator still compares a first product with double backward before it trusts the engine.
    /// </summary>
    private static bool HasHooks(nn.Module module)
    {
        for (var type = module.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var name in new[] { "pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks" })
            {
                if (type.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly)?.GetValue(module) is System.Collections.ICollection { Count: > 0 })
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Forward pass and the first-order backward quantities of one batch, without autograd. <paramref name="scale"/>
    /// is the batch loss's factor in the mean loss (1/n). Tensors are in the caller's dispose scope.
    /// </summary>
    /// <exception cref="NotSupportedException">Inputs or targets have a shape the engine does not cover.</exception>
    public MlpBatchState Prepare(Tensor inputs, Tensor targets, double scale)
    {
        if (inputs.dim() != 2)
            throw new NotSupportedException($"the analytic engine needs inputs of shape [batch, features], not {Guard.Shape(inputs)}");
        using var _ = no_grad();
        var state = new MlpBatchState(steps.Length) { Scale = scale, Rows = inputs.shape[0] };
        var h = inputs;
        for (var j = 0; j < steps.Length; j++)
        {
            var s = steps[j];
            if (s.IsLinear)
            {
                if (j >= lowest)
                {
                    // The caller's input tensor gets a handle of its own: a cached state is detached from dispose scopes
                    // and disposed with the operator, which must not touch data the caller owns.
                    state.Inputs[j] = ReferenceEquals(h, inputs) ? inputs.detach() : h;
                }
                h = s.Bias is null ? h.mm(s.Weight!.t()) : addmm(s.Bias, h, s.Weight!.t(), 1, 1);
            }
            else
            {
                var (value, first, second) = s.Activation!.Evaluate(h);
                if (j > lowest)
                {
                    state.FirstDerivatives[j] = first;
                    state.SecondDerivatives[j] = second;
                }
                h = value;
            }
        }
        var outputGradient = OutputGradient(h, targets, state, scale);
        for (var j = steps.Length - 1; j >= lowestNeededGradient; j--)
        {
            if (keepOutputGradient[j])
                state.OutputGradients[j] = outputGradient;
            if (j > lowestNeededGradient)
            {
                outputGradient = steps[j].IsLinear
                    ? outputGradient.mm(steps[j].Weight!)
                    : outputGradient * state.FirstDerivatives[j]!;
            }
        }
        return state;
    }

    private Tensor OutputGradient(Tensor logits, Tensor targets, MlpBatchState state, double scale)
    {
        if (logits.dim() != 2)
            throw new NotSupportedException($"the analytic engine needs outputs of shape [batch, outputs], not {Guard.Shape(logits)}");
        if (lossKind == LossKind.CrossEntropy)
        {
            if (targets.dtype != ScalarType.Int64 || targets.dim() != 1)
                throw new NotSupportedException("the analytic engine needs class-index targets for cross-entropy");
            var p = logits.softmax(1);
            state.Probabilities = p;
            return (p - nn.functional.one_hot(targets, logits.shape[1]).to(p.dtype)).TimesInPlace(scale);
        }
        var t = targets.dtype == ScalarType.Int64 && targets.dim() == 1 ? nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype) : targets;
        if (!t.shape.SequenceEqual(logits.shape))
            throw new NotSupportedException($"the analytic engine needs MSE targets shaped like the outputs {Guard.Shape(logits)}, not {Guard.Shape(targets)}");
        return (logits - t).TimesInPlace(2.0 * scale / logits.shape[1]);
    }

    /// <summary>This batch's contribution to H v, flat in the parameter space's order.</summary>
    public Tensor Product(MlpBatchState state, Tensor vector)
    {
        using var _ = no_grad();
        var directions = new Tensor?[steps.Length];
        var biasDirections = new Tensor?[steps.Length];
        for (var j = lowest; j < steps.Length; j++)
        {
            if (steps[j].WeightIndex >= 0)
                directions[j] = Slice(vector, steps[j].WeightIndex);
            if (steps[j].BiasIndex >= 0)
                biasDirections[j] = Slice(vector, steps[j].BiasIndex);
        }

        // R-forward: R(h_j) for the vector; null stands for an exact zero below the lowest selected layer.
        var rInputs = new Tensor?[steps.Length];
        Tensor? r = null;
        for (var j = lowest; j < steps.Length; j++)
        {
            var s = steps[j];
            rInputs[j] = r;
            if (s.IsLinear)
            {
                var next = r?.mm(s.Weight!.t());
                if (directions[j] is { } direction)
                    next = next is null ? state.Inputs[j]!.mm(direction.t()) : next.addmm_(state.Inputs[j]!, direction.t());
                if (biasDirections[j] is { } biasDirection)
                    next = next is null ? biasDirection.expand(state.Rows, -1).clone() : next.add_(biasDirection);
                r = next;
            }
            else if (r is not null)
            {
                r = r * state.FirstDerivatives[j]!;
            }
        }

        // R-backward, starting from the loss's second derivative applied to R(z).
        Tensor rGradient;
        if (lossKind == LossKind.CrossEntropy)
        {
            var p = state.Probabilities!;
            var pr = p * r!;
            rGradient = (pr - p * pr.sum(dim: 1, keepdim: true)).TimesInPlace(state.Scale);
        }
        else
        {
            rGradient = r!.Times(2.0 * state.Scale / r!.shape[1]);
        }
        var parts = new Tensor[space.Tensors.Count];
        for (var j = steps.Length - 1; j >= lowest; j--)
        {
            var s = steps[j];
            if (s.IsLinear)
            {
                if (s.WeightIndex >= 0)
                {
                    var part = rGradient.t().mm(state.Inputs[j]!);
                    if (rInputs[j] is { } rInput)
                        part.addmm_(state.OutputGradients[j]!.t(), rInput);
                    parts[s.WeightIndex] = part;
                }
                if (s.BiasIndex >= 0)
                    parts[s.BiasIndex] = rGradient.sum(dim: 0);
                if (j > lowest)
                {
                    var next = rGradient.mm(s.Weight!);
                    if (directions[j] is { } direction)
                        next.addmm_(state.OutputGradients[j]!, direction);
                    rGradient = next;
                }
            }
            else if (j > lowest)
            {
                var next = rGradient * state.FirstDerivatives[j]!;
                if (state.SecondDerivatives[j] is { } second && rInputs[j] is { } rInput)
                    next.add_(state.OutputGradients[j]! * second * rInput);
                rGradient = next;
            }
        }
        return space.Flatten(parts);
    }

    private Tensor Slice(Tensor vector, int index) =>
        vector.narrow(0, space.OffsetOf(index), space.Tensors[index].numel()).view(space.Tensors[index].shape);

    /// <summary>
    /// Adds this batch's contribution to H v_j for the k vectors given as the rows of <paramref name="rows"/> [k, p] to
    /// the rows of <paramref name="sum"/> [k, p]. The vectors share the batch's forward quantities and run one at a time,
    /// each in its own dispose scope. Running them together as [n, k, w] tensors, one matrix product per step for the
    /// whole group, was measured slower and dropped: the products here are not call-bound, and the larger tensors fall
    /// out of cache (docs/benchmarks.md).
    /// </summary>
    public void AddProductRows(MlpBatchState state, Tensor rows, Tensor sum)
    {
        for (long j = 0; j < rows.shape[0]; j++)
        {
            using var scope = NewDisposeScope();
            sum[j].add_(Product(state, rows[j]));
        }
    }

    /// <summary>A Linear step (Weight set) or an activation step (Activation set); indices into the parameter space, −1 if not selected.</summary>
    internal sealed record Step(PointwiseActivation? Activation, Tensor? Weight, Tensor? Bias, int WeightIndex, int BiasIndex)
    {
        public bool IsLinear => Weight is not null;
    }
}
