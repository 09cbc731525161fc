using System.Globalization;

namespace HessianGeometry.Distributed;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> ("i/N") of one data file: the contiguous sample range
/// [⌊i·n/N⌋, ⌊(i+1)·n/N⌋). Sizes differ by at most one sample; different workers may use different N as long as the
/// ranges of all workers cover the file exactly once (checked by <see cref="HessianCluster"/>).
/// </summary>
/// <param name="Index">i, 0 ≤ i &lt; N.</param>
/// <param name="Count">N ≥ 1.</param>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>Parses "i/N", e.g. "1/3".</summary>
    /// <exception cref="FormatException">The text is not two integers separated by '/' with 0 ≤ i &lt; N.</exception>
    public static ShardSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count < 1 || index >= count)
        {
            throw new FormatException($"'{text}' is not a shard: write i/N with 0 ≤ i < N, e.g. 0/2 and 1/2 for two workers.");
        }
        return new ShardSpec(index, count);
    }

    /// <summary>The first sample of this shard in a file of <paramref name="samples"/> samples.</summary>
    public long Start(long samples) => Validated(samples) * Index / Count;

    /// <summary>The number of samples of this shard in a file of <paramref name="samples"/> samples (may be 0 when n &lt; N).</summary>
    public long Length(long samples) => Validated(samples) * (Index + 1L) / Count - Start(samples);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    private long Validated(long samples)
    {
        if (Count < 1 || Index < 0 || Index >= Count)
            throw new InvalidOperationException($"Shard {Index}/{Count} is not valid: need 0 ≤ i < N.");
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        return samples;
    }
}
