using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// Independent references for the geometry tests: per-sample gradients written directly against the model with plain
/// autograd (no library code), and the small trained problems the tests share.
/// </summary>
internal static class GeometryReferences
{
    /// <summary>The loss ℓ(f, t) written out by hand: cross-entropy −log softmax(f)_t or MSE mean((f − onehot(t))²).</summary>
    public static Tensor HandLoss(Tensor output, Tensor target, bool mse) =>
        mse
            ? (output - F.one_hot(target, output.shape[1]).to(output.dtype)).square().mean()
            : -F.log_softmax(output, 1).gather(1, target.view(-1, 1)).sum();

    /// <summary>G[j] = ∂ℓ(f(x_j), t_j)/∂θ over all model parameters, one plain backward per row; t_j = argmax f(x_j) unless labels are given.</summary>
    public static Tensor ExplicitGradients(Module model, Tensor x, Tensor? labels = null, bool mse = false)
    {
        using var scope = NewDisposeScope();
        var parameters = model.parameters().Select(p => (Tensor)p).ToList();
        var rows = new List<Tensor>();
        for (long j = 0; j < x.shape[0]; j++)
        {
            var output = model.call(x.narrow(0, j, 1));
            var target = labels is null ? output.detach().argmax(1) : labels.narrow(0, j, 1);
            var grads = torch.autograd.grad([HandLoss(output, target, mse)], parameters);
            rows.Add(cat(grads.Select(g => g.reshape(-1)).ToList(), 0));
        }
        return stack(rows, 0).MoveToOuterDisposeScope();
    }

    /// <summary>A = G V / (‖G_j‖ ‖v_i‖) from explicit gradients, float64.</summary>
    public static Tensor ExplicitAlignment(Tensor gradients, Tensor vectors)
    {
        using var scope = NewDisposeScope();
        var g = gradients.to(ScalarType.Float64);
        var v = vectors.to(ScalarType.Float64);
        var cos = g.mm(v) / (g.norm(1, keepdim: true) * v.norm(0, keepdim: true));
        return cos.MoveToOuterDisposeScope();
    }

    /// <summary>Seeded Gaussian directions [p, k] in float64.</summary>
    public static Tensor RandomDirections(long p, long k, long seed) =>
        randn(p, k, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));

    /// <summary>
    /// Gaussian clusters in 2-D (one per class, centres given as x₁, x₂ pairs, isotropic spread), perClass points each,
    /// and an MLP [2, hidden, C] (tanh, float64) trained on them with full-batch Adam (lr 0.02), all seeded.
    /// </summary>
    public static (Module Model, Tensor X, Tensor Y) TrainedMixture(double[] centres, int perClass, int hidden, int steps, double spread, long seed)
    {
        var classes = centres.Length / 2;
        var g = new Generator((ulong)seed);
        var y = (arange(classes * perClass, dtype: ScalarType.Int64) % classes);
        var means = tensor(centres).view(classes, 2).index_select(0, y);
        var x = (means + spread * randn(classes * perClass, 2, dtype: ScalarType.Float64, generator: g));
        var model = HessianGeometry.Testing.TinyModels.Mlp([2, hidden, classes], "tanh", seed);
        var optimizer = optim.Adam(model.parameters(), lr: 0.02);
        for (var t = 0; t < steps; t++)
        {
            using var step = NewDisposeScope();
            optimizer.zero_grad();
            F.cross_entropy(model.call(x), y).backward();
            optimizer.step();
        }
        return (model, x, y);
    }
}
