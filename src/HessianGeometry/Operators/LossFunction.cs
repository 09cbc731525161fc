using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace HessianGeometry.Operators;

/// <summary>
/// A loss ℓ(f(x), y) and its per-sample form. The dataset loss is always the mean L = (1/n) Σ_i ℓ_i, which matches
/// PyTorch's default <c>reduction="mean"</c> for cross-entropy, NLL and MSE.
/// </summary>
public sealed class LossFunction
{
    private readonly Func<Tensor, Tensor, Tensor>? custom;

    private LossFunction(string name, LossKind kind, LossReduction reduction, Func<Tensor, Tensor, Tensor>? custom)
    {
        Name = name;
        Kind = kind;
        Reduction = reduction;
        this.custom = custom;
    }

    /// <summary>Softmax cross-entropy on logits (the default).</summary>
    public static LossFunction CrossEntropy { get; } = new("cross-entropy", LossKind.CrossEntropy, LossReduction.None, null);

    /// <summary>Negative log-likelihood on log-probabilities.</summary>
    public static LossFunction NegativeLogLikelihood { get; } = new("nll", LossKind.NegativeLogLikelihood, LossReduction.None, null);

    /// <summary>Mean squared error averaged over output components (one-hot targets for class labels).</summary>
    public static LossFunction MeanSquaredError { get; } = new("mse", LossKind.MeanSquaredError, LossReduction.None, null);

    /// <summary>A user-supplied loss <c>(output, target) → loss</c> with its declared reduction over the batch.</summary>
    /// <remarks>Per-sample geometry (alignment, margins) needs <see cref="LossReduction.None"/>.</remarks>
    public static LossFunction Custom(string name, Func<Tensor, Tensor, Tensor> function, LossReduction reduction)
    {
        Guard.NotNull(function, nameof(function));
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("Give the custom loss a name; it appears in reports.", nameof(name));
        return new LossFunction(name, LossKind.Custom, reduction, function);
    }

    /// <summary>Parses <c>ce</c>, <c>nll</c> or <c>mse</c> (as used by the CLI).</summary>
    public static LossFunction Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "ce" or "cross-entropy" or "crossentropy" => CrossEntropy,
        "nll" => NegativeLogLikelihood,
        "mse" => MeanSquaredError,
        _ => throw new ArgumentException($"Unknown loss '{name}'. Use ce, nll or mse.", nameof(name)),
    };

    /// <summary>Name shown in reports.</summary>
    public string Name { get; }

    /// <summary>The loss family.</summary>
    public LossKind Kind { get; }

    /// <summary>The reduction of a custom loss (<see cref="LossReduction.None"/> for built-ins).</summary>
    public LossReduction Reduction { get; }

    /// <summary>True when targets are class indices (cross-entropy and NLL; MSE accepts them too).</summary>
    public bool UsesClassTargets => Kind is LossKind.CrossEntropy or LossKind.NegativeLogLikelihood;

    /// <summary>True when the loss can produce one value per sample.</summary>
    public bool HasPerSampleForm => Kind != LossKind.Custom || Reduction == LossReduction.None;

    /// <summary>Per-sample losses ℓ_i, shape [b].</summary>
    public Tensor PerSample(Tensor output, Tensor target)
    {
        switch (Kind)
        {
            case LossKind.CrossEntropy:
                return F.cross_entropy(output, target, reduction: nn.Reduction.None);
            case LossKind.NegativeLogLikelihood:
                return F.nll_loss(output, target, reduction: nn.Reduction.None);
            case LossKind.MeanSquaredError:
                var t = MseTarget(output, target);
                return (output - t).square().reshape(output.shape[0], -1).mean([1L]);
            default:
                if (Reduction != LossReduction.None)
                    throw new InvalidOperationException($"The custom loss '{Name}' reduces over the batch ({Reduction}); per-sample quantities need LossReduction.None.");
                return custom!(output, target);
        }
    }

    /// <summary>Σ_i ℓ_i over the batch (a scalar).</summary>
    public Tensor Sum(Tensor output, Tensor target)
    {
        if (Kind != LossKind.Custom)
            return PerSample(output, target).sum();
        var value = custom!(output, target);
        return Reduction switch
        {
            LossReduction.None => value.sum(),
            LossReduction.Sum => value,
            _ => value * output.shape[0],
        };
    }

    private static Tensor MseTarget(Tensor output, Tensor target)
    {
        if (target.dtype == ScalarType.Int64 && target.dim() == 1 && output.dim() == 2)
            return F.one_hot(target, output.shape[1]).to(output.dtype);
        return target.dtype == output.dtype ? target : target.to(output.dtype);
    }
}
