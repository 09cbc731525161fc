using HessianGeometry.Testing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>The tiny models and data the reliability tests break in one way each.</summary>
internal static class TestModels
{
    /// <summary>3-4-3 tanh MLP (p = 31, float64, eval mode) on 24 seeded 3-D points in 3 classes.</summary>
    public static (Sequential Model, Tensor X, Tensor Y) Tiny(int n = 24)
    {
        var (x, y) = TinyModels.Blobs(n, 3, 3, seed: 5);
        return (TinyModels.Mlp([3, 4, 3], "tanh", seed: 6), x, y);
    }

    /// <summary>Linear(3, 4) → <paramref name="middle"/> → tanh → Linear(4, 3), in training mode.</summary>
    public static Sequential WithLayer(nn.Module<Tensor, Tensor> middle)
    {
        torch.manual_seed(7);
        var model = nn.Sequential(("0", nn.Linear(3, 4, dtype: ScalarType.Float64)), ("1", middle), ("2", nn.Tanh()),
            ("3", nn.Linear(4, 3, dtype: ScalarType.Float64)));
        model.train();
        return model;
    }

    /// <summary>Three batches of 8 rows of the tiny data, as a batch sequence (the caller may replace one).</summary>
    public static List<(Tensor Inputs, Tensor Targets)> Batches(Tensor x, Tensor y) =>
        [(x.narrow(0, 0, 8), y.narrow(0, 0, 8)), (x.narrow(0, 8, 8), y.narrow(0, 8, 8)), (x.narrow(0, 16, 8), y.narrow(0, 16, 8))];
}

/// <summary>A model with a parameter its forward pass never uses ('unused.weight', 'unused.bias').</summary>
internal sealed class UnusedParameterModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear used;
    private readonly Linear unused;

    public UnusedParameterModel() : base(nameof(UnusedParameterModel))
    {
        torch.manual_seed(8);
        used = nn.Linear(3, 3, dtype: ScalarType.Float64);
        unused = nn.Linear(3, 3, dtype: ScalarType.Float64);
        RegisterComponents();
        eval();
    }

    public override Tensor forward(Tensor input) => used.call(input);
}

/// <summary>A model whose output is cut from the graph, so the loss does not depend on any parameter.</summary>
internal sealed class DetachedOutputModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear layer;

    public DetachedOutputModel() : base(nameof(DetachedOutputModel))
    {
        torch.manual_seed(9);
        layer = nn.Linear(3, 3, dtype: ScalarType.Float64);
        RegisterComponents();
        eval();
    }

    public override Tensor forward(Tensor input) => layer.call(input).detach();
}

/// <summary>A random layer that is not called Dropout: the training-mode check cannot see it, the determinism check can.</summary>
internal sealed class NoiseLayer : nn.Module<Tensor, Tensor>
{
    public NoiseLayer() : base(nameof(NoiseLayer)) { }

    public override Tensor forward(Tensor input) => input + 0.1 * randn_like(input);
}

/// <summary>
/// A model with a kink at zero input rows (z = Wx = 0, no bias). <see cref="Kink.UndefinedGradient"/>: out = sqrt(z²),
/// whose gradient there is Inf·0 = NaN. <see cref="Kink.UndefinedCurvature"/>: out = |z|^1.5, whose gradient is 0 but
/// whose second derivative is Inf·0 = NaN. The loss is finite in both.
/// </summary>
internal sealed class KinkModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear layer;
    private readonly Kink kink;

    public KinkModel(Kink kink) : base(nameof(KinkModel))
    {
        torch.manual_seed(10);
        layer = nn.Linear(3, 3, hasBias: false, dtype: ScalarType.Float64);
        this.kink = kink;
        RegisterComponents();
        eval();
    }

    public override Tensor forward(Tensor input)
    {
        var z = layer.call(input);
        return kink == Kink.UndefinedGradient ? z.square().sqrt() : z.abs().pow(1.5);
    }
}

internal enum Kink
{
    UndefinedGradient,
    UndefinedCurvature,
}
