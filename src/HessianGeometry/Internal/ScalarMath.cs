using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Internal;

/// <summary>
/// Tensor–number arithmetic with the <see cref="Scalar"/> kept alive across the native call. TorchSharp 0.107 turns a
/// double into a <see cref="Scalar"/> implicitly, never disposes it, and reads only its handle: the garbage collector
/// may then finalize the Scalar while libtorch is still reading it, and the product fails ("toDouble"/"toFloat"
/// checks in c10) or, in principle, uses a wrong number. Seen in 8 of 200,000 products under GC pressure here, none
/// with the Scalar held by a <c>using</c> (TorchSharp PR #1434 fixes the operators upstream). Used on the paths that
/// run once per product or optimisation step.
/// </summary>
internal static class ScalarMath
{
    /// <summary>t · s as a new tensor.</summary>
    public static Tensor Times(this Tensor t, double s)
    {
        using var scalar = s.ToScalar();
        return t.mul(scalar);
    }

    /// <summary>t / s as a new tensor.</summary>
    public static Tensor DividedBy(this Tensor t, double s)
    {
        using var scalar = s.ToScalar();
        return t.div(scalar);
    }

    /// <summary>t + α · other as a new tensor.</summary>
    public static Tensor PlusScaled(this Tensor t, Tensor other, double alpha)
    {
        using var scalar = alpha.ToScalar();
        return t.add(other, scalar);
    }

    /// <summary>t + s as a new tensor (with an explicit α = 1: TorchSharp's <c>add(Scalar)</c> makes its own, unheld).</summary>
    public static Tensor Plus(this Tensor t, double s)
    {
        using var scalar = s.ToScalar();
        using var one = 1.ToScalar();
        return t.add(scalar, one);
    }

    /// <summary>t ← t · s.</summary>
    public static Tensor TimesInPlace(this Tensor t, double s)
    {
        using var scalar = s.ToScalar();
        return t.mul_(scalar);
    }

    /// <summary>t ← t / s.</summary>
    public static Tensor DivideInPlace(this Tensor t, double s)
    {
        using var scalar = s.ToScalar();
        return t.div_(scalar);
    }

    /// <summary>t ← t + s (with an explicit α = 1: TorchSharp's <c>add_(Scalar)</c> makes its own, unheld).</summary>
    public static Tensor AddInPlace(this Tensor t, double s)
    {
        using var scalar = s.ToScalar();
        using var one = 1.ToScalar();
        return t.add_(scalar, one);
    }

    /// <summary>t ← t + α · other.</summary>
    public static Tensor AddScaledInPlace(this Tensor t, Tensor other, double alpha)
    {
        using var scalar = alpha.ToScalar();
        return t.add_(other, scalar);
    }
}
