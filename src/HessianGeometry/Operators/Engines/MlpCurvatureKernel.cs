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
/// this costs 8 (7 for ReLU, whose σ″ term vanishes), and 6 on a cached batch (docs/benchmarks.md). The forward and
/// R-forward passes are <see cref="MlpNetwork"/>'s, shared with the GGN kernel (<see cref="MlpGgnKernel"/>), which
/// drops the terms with g.
/// </remarks>
internal sealed class MlpCurvatureKernel : IMlpKernel
{
    private readonly MlpNetwork network;
    private readonly bool[] keepOutputGradient;
    private readonly int lowestNeededGradient;

    private MlpCurvatureKernel(MlpNetwork network)
    {
        this.network = network;
        var steps = network.Steps;
        // g_j is used directly by a Linear step above the lowest selected one whose weight is selected (gᵀ R(a), g V),
        // and by an activation above it with a non-zero σ″; it must be propagated down to the lowest such step.
        keepOutputGradient = new bool[steps.Length];
        lowestNeededGradient = steps.Length;
        for (int j = network.Lowest + 1; j < steps.Length; j++)
        {
            var s = steps[j];
            keepOutputGradient[j] = s.IsLinear ? s.WeightIndex >= 0 : s.Activation!.Name != PointwiseActivation.ReLU.Name;
            if (keepOutputGradient[j])
                lowestNeededGradient = Math.Min(lowestNeededGradient, j);
        }
    }

    /// <summary>Steps of the network, for messages.</summary>
    public string Describe() => network.Describe();

    /// <summary>Reads the model as an MLP (<see cref="MlpNetwork.TryCreate"/>), or returns null with the reason it cannot.</summary>
    public static MlpCurvatureKernel? TryCreate(Module model, LossFunction loss, ParameterSpace originals, ParameterSpace analysis, Func<Tensor, Tensor> valueOf, out string reason)
    {
        var network = MlpNetwork.TryCreate(model, loss, originals, analysis, valueOf, out reason);
        return network is null ? null : new MlpCurvatureKernel(network);
    }

    /// <summary>
    /// Forward pass and the first-order backward quantities of one batch, without autograd. <paramref name="scale"/>
    /// is the batch loss's factor in the mean loss (1/n). Tensors are in the caller's dispose scope.
    /// </summary>
    /// <exception cref="NotSupportedException">Inputs or targets have a shape the engine does not cover.</exception>
    public MlpBatchState Prepare(Tensor inputs, Tensor targets, double scale)
    {
        using var _ = no_grad();
        var (state, logits) = network.Forward(inputs, scale, secondDerivatives: true);
        var outputGradient = MlpOutputLoss.Gradient(network.LossKind, logits, targets, state, scale);
        var steps = network.Steps;
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

    /// <summary>This batch's contribution to H v, flat in the parameter space's order.</summary>
    public Tensor Product(MlpBatchState state, Tensor vector)
    {
        using var _ = no_grad();
        var tangent = network.RForward(state, vector);
        var steps = network.Steps;
        var lowest = network.Lowest;

        // R-backward, starting from the loss's second derivative applied to R(z).
        var rGradient = MlpOutputLoss.HessianTimes(network.LossKind, state, tangent.Output);
        var parts = new Tensor[network.Space.Tensors.Count];
        for (var j = steps.Length - 1; j >= lowest; j--)
        {
            var s = steps[j];
            if (s.IsLinear)
            {
                if (s.WeightIndex >= 0)
                {
                    var part = rGradient.t().mm(state.Inputs[j]!);
                    if (tangent.InputTangents[j] is { } rInput)
                        part.addmm_(state.OutputGradients[j]!.t(), rInput);
                    parts[s.WeightIndex] = part;
                }
                if (s.BiasIndex >= 0)
                    parts[s.BiasIndex] = rGradient.sum(dim: 0);
                if (j > lowest)
                {
                    var next = rGradient.mm(s.Weight!);
                    if (tangent.WeightDirections[j] is { } direction)
                        next.addmm_(state.OutputGradients[j]!, direction);
                    rGradient = next;
                }
            }
            else if (j > lowest)
            {
                var next = rGradient * state.FirstDerivatives[j]!;
                if (state.SecondDerivatives[j] is { } second && tangent.InputTangents[j] is { } rInput)
                    next.add_(state.OutputGradients[j]! * second * rInput);
                rGradient = next;
            }
        }
        return network.Space.Flatten(parts);
    }

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
}
