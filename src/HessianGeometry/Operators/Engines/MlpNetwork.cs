using System.Reflection;
using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// An MLP, <c>Sequential</c> of <c>Linear</c> layers and pointwise activations, read once for the analytic curvature
/// engines (<see cref="MlpCurvatureKernel"/> for the Hessian, <see cref="MlpGgnKernel"/> for the GGN): its steps, the
/// selected parameters, the loss, and the two passes both engines share — the forward pass that records what the
/// products need, and the R-forward pass J v.
/// </summary>
internal sealed class MlpNetwork
{
    private MlpNetwork(MlpStep[] steps, ParameterSpace space, LossKind lossKind)
    {
        Steps = steps;
        Space = space;
        LossKind = lossKind;
        Lowest = Array.FindIndex(steps, s => s.WeightIndex >= 0 || s.BiasIndex >= 0);
    }

    /// <summary>The steps in call order.</summary>
    public MlpStep[] Steps { get; }

    /// <summary>The selected parameters in the analysis dtype.</summary>
    public ParameterSpace Space { get; }

    /// <summary>Cross-entropy or MSE.</summary>
    public LossKind LossKind { get; }

    /// <summary>The lowest step with a selected parameter: nothing below it is differentiated.</summary>
    public int Lowest { get; }

    /// <summary>Steps of the network, for messages.</summary>
    public string Describe() => string.Join(" → ", Steps.Select(s => s.IsLinear ? $"Linear({s.Weight!.shape[1]}→{s.Weight.shape[0]})" : s.Activation!.Name));

    /// <summary>
    /// Reads the model as an MLP, or returns null with the reason it cannot. <paramref name="valueOf"/> maps a model
    /// parameter to the tensor the analysis runs on (its float64 twin, or itself).
    /// </summary>
    public static MlpNetwork? TryCreate(Module model, LossFunction loss, ParameterSpace originals, ParameterSpace analysis, Func<Tensor, Tensor> valueOf, out string reason)
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
        var steps = new List<MlpStep>();
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
        return new MlpNetwork([.. steps], analysis, loss.Kind);
    }

    /// <summary>Appends the step of one layer, or returns false with the reason it is not covered.</summary>
    private static bool TryAddStep(SequentialLayer layer, List<MlpStep> steps, ParameterSpace analysis, Func<Tensor, Tensor> valueOf, out string reason)
    {
        reason = "";
        var leaf = layer.Module;
        switch (leaf)
        {
            case TorchSharp.Modules.Linear linear:
                steps.Add(new MlpStep(
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
                steps.Add(new MlpStep(activation, null, null, -1, -1));
                return true;
        }
    }

    /// <summary>
    /// True when TorchSharp's hook tables of the module are non-empty. Unknown field layouts count as "no hooks": the
    /// engines still compare a first product with an autograd reference before they are trusted.
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
    /// The forward pass of one batch without autograd: records the input of every Linear step at or above the lowest
    /// selected layer and σ′ (and, when <paramref name="secondDerivatives"/>, σ″) of every activation above it. Returns
    /// the state and the logits; tensors are in the caller's dispose scope, and the caller runs under <c>no_grad</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The inputs are not [batch, features].</exception>
    public (MlpBatchState State, Tensor Logits) Forward(Tensor inputs, double scale, bool secondDerivatives)
    {
        if (inputs.dim() != 2)
            throw new NotSupportedException($"the analytic engine needs inputs of shape [batch, features], not {Guard.Shape(inputs)}");
        var state = new MlpBatchState(Steps.Length) { Scale = scale, Rows = inputs.shape[0] };
        var h = inputs;
        for (var j = 0; j < Steps.Length; j++)
        {
            var s = Steps[j];
            if (s.IsLinear)
            {
                if (j >= Lowest)
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
                if (j > Lowest)
                {
                    state.FirstDerivatives[j] = first;
                    state.SecondDerivatives[j] = secondDerivatives ? second : null;
                }
                h = value;
            }
        }
        return (state, h);
    }

    /// <summary>
    /// The R-forward pass: R(h_j) along <paramref name="vector"/> for every step, R(h) = R(a) Wᵀ + a Vᵀ + v for a Linear
    /// step and σ′ ⊙ R(z) for an activation, ending in J v for the logits. Runs under the caller's <c>no_grad</c>.
    /// </summary>
    public MlpTangent RForward(MlpBatchState state, Tensor vector)
    {
        var directions = new Tensor?[Steps.Length];
        var biasDirections = new Tensor?[Steps.Length];
        for (var j = Lowest; j < Steps.Length; j++)
        {
            if (Steps[j].WeightIndex >= 0)
                directions[j] = Slice(vector, Steps[j].WeightIndex);
            if (Steps[j].BiasIndex >= 0)
                biasDirections[j] = Slice(vector, Steps[j].BiasIndex);
        }
        var inputTangents = new Tensor?[Steps.Length];
        Tensor? r = null;
        for (var j = Lowest; j < Steps.Length; j++)
        {
            var s = Steps[j];
            inputTangents[j] = r;
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
        return new MlpTangent(directions, biasDirections, inputTangents, r!);
    }

    private Tensor Slice(Tensor vector, int index) =>
        vector.narrow(0, Space.OffsetOf(index), Space.Tensors[index].numel()).view(Space.Tensors[index].shape);
}
