namespace HessianGeometry.Internal;

/// <summary>
/// Random numbers that are a pure function of (seed, global sample index, draw, component): a counter-based generator
/// (SplitMix64's finaliser, Steele, Lea and Flood 2014, applied to the chained key) in place of a stream. A per-sample
/// draw then does not depend on which batch or shard the sample falls in, nor on how many samples came before it in
/// that batch, so products over any batching or sharding of the same samples use the same draws.
/// </summary>
internal static class SampleKeyedRandom
{
    private const double TwoToMinus53 = 1.0 / (1UL << 53);

    /// <summary>A uniform value in [0, 1) with 53 random bits.</summary>
    public static double Uniform(long seed, long sample, int draw, int component) =>
        (Key(seed, sample, draw, component) >> 11) * TwoToMinus53;

    /// <summary>A standard Gaussian value (Box–Muller on two keyed uniforms; components 2c and 2c + 1 are used for c).</summary>
    public static double Gaussian(long seed, long sample, int draw, int component)
    {
        // u1 in (0, 1] so that the logarithm is finite.
        var u1 = ((Key(seed, sample, draw, 2 * component) >> 11) + 1) * TwoToMinus53;
        var u2 = Uniform(seed, sample, draw, (2 * component) + 1);
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static ulong Key(long seed, long sample, int draw, int component)
    {
        var z = Mix((ulong)seed);
        z = Mix(z ^ (ulong)sample);
        return Mix(z ^ (((ulong)(uint)draw << 32) | (uint)component));
    }

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
