using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// A pointwise activation σ with its first and second derivatives, evaluated from the pre-activation z, as the analytic
/// MLP engine needs them. The second derivative is null where it vanishes (ReLU), which spares a product per layer.
/// </summary>
internal sealed class PointwiseActivation
{
    private readonly Func<Tensor, (Tensor Value, Tensor First, Tensor? Second)> evaluate;

    private PointwiseActivation(string name, Func<Tensor, (Tensor, Tensor, Tensor?)> evaluate)
    {
        Name = name;
        this.evaluate = evaluate;
    }

    public string Name { get; }

    /// <summary>σ(z), σ′(z) and σ″(z) (null when identically zero).</summary>
    public (Tensor Value, Tensor First, Tensor? Second) Evaluate(Tensor z) => evaluate(z);

    public static PointwiseActivation ReLU { get; } = new("ReLU", z =>
    {
        // PyTorch's ReLU has derivative 0 at z = 0; (z > 0) matches it, so kinks agree with autograd bit for bit.
        var first = z.gt(0).to(z.dtype);
        return (z * first, first, null);
    });

    public static PointwiseActivation Tanh { get; } = new("Tanh", z =>
    {
        var t = z.tanh();
        var first = 1 - t.square();
        return (t, first, -2 * t * first);
    });

    public static PointwiseActivation Sigmoid { get; } = new("Sigmoid", z =>
    {
        var s = z.sigmoid();
        var first = s * (1 - s);
        return (s, first, first * (1 - 2 * s));
    });

    /// <summary>Exact GELU, z Φ(z): σ′ = Φ + z φ, σ″ = φ (2 − z²).</summary>
    public static PointwiseActivation Gelu { get; } = new("GELU", z =>
    {
        var cdf = 0.5 * (1 + (z * Math.Sqrt(0.5)).erf());
        var pdf = (-0.5 * z.square()).exp() * (1 / Math.Sqrt(2 * Math.PI));
        return (z * cdf, cdf + z * pdf, pdf * (2 - z.square()));
    });

    /// <summary>SiLU, z s(z): σ′ = s (1 + z (1 − s)), σ″ = s (1 − s) (2 + z (1 − 2s)).</summary>
    public static PointwiseActivation Silu { get; } = new("SiLU", z =>
    {
        var s = z.sigmoid();
        var oneMinus = 1 - s;
        return (z * s, s * (1 + z * oneMinus), s * oneMinus * (2 + z * (1 - 2 * s)));
    });
}
