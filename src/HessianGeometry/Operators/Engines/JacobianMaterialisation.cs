using System.Globalization;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// When a cached batch of a Jacobian sandwich (GGN, Monte-Carlo Fisher, empirical Fisher) switches from autograd
/// products to a materialised Jacobian J_B [m, p] (m = output entries of the batch, b·C for b samples and C outputs each),
/// and what that switch has done so far, for the engine note. One ledger per engine.
/// <para>
/// The rule, a rent-or-buy choice: building J_B costs m backward passes through the forward graph, taken as
/// m / <see cref="PayoffDivisor"/> double-vjp products (a plain backward pass is cheaper than a product's pass through
/// the graph of Jᵀu; docs/curvature.md has the measurement); after it a product is two matrix–vector products. A cached batch therefore keeps the double-vjp path until it has served (or is asked for,
/// in one block) more than m/4 products, so a short analysis never pays for a Jacobian it will not use and a long one
/// pays at most about twice the cheaper choice. The Jacobian must also fit the memory budget: m·p·(element size) ≤
/// <see cref="BatchBytes"/> (256 MiB by default) for the batch and ≤ <see cref="TotalBytes"/> (1 GiB) summed over the
/// engine's materialised batches; otherwise the batch stays on the double-vjp path. Streamed batches never materialise.
/// </para>
/// </summary>
internal sealed class JacobianMaterialisation
{
    /// <summary>Default per-batch memory budget of a materialised Jacobian: 256 MiB.</summary>
    public const long DefaultBatchBytes = 256L << 20;

    /// <summary>Default memory budget summed over an engine's materialised batches: 1 GiB.</summary>
    public const long DefaultTotalBytes = 1L << 30;

    /// <summary>Output entries per double-vjp product that building J_B is taken to cost (m backward passes ≈ m/4 products).</summary>
    public const double PayoffDivisor = 4;

    private readonly object gate = new();
    private long reservedBytes;
    private int materialised;
    private int refused;
    private string? refusal;

    /// <summary>Per-batch budget in bytes.</summary>
    public long BatchBytes { get; init; } = DefaultBatchBytes;

    /// <summary>Budget in bytes summed over the engine's materialised batches.</summary>
    public long TotalBytes { get; init; } = DefaultTotalBytes;

    /// <summary>Products a batch serves by autograd before it materialises; null: the rule, m / <see cref="PayoffDivisor"/>. Tests set 0.</summary>
    public long? PayoffProducts { get; init; }

    /// <summary>Whether a batch with <paramref name="outputs"/> entries that has served <paramref name="served"/> products and is asked for <paramref name="incoming"/> more should now build J_B.</summary>
    public bool PaysOff(long outputs, long served, long incoming)
    {
        var threshold = PayoffProducts ?? (long)Math.Ceiling(outputs / PayoffDivisor);
        return served + incoming > threshold;
    }

    /// <summary>Reserves <paramref name="bytes"/> for one batch's Jacobian; false (and recorded) when a budget would be exceeded.</summary>
    public bool TryReserve(long bytes)
    {
        lock (gate)
        {
            string? why = null;
            if (bytes > BatchBytes)
                why = $"the batch Jacobian needs {Megabytes(bytes)}, over the {Megabytes(BatchBytes)} per-batch budget";
            else if (reservedBytes + bytes > TotalBytes)
                why = $"the batch Jacobians would need {Megabytes(reservedBytes + bytes)} in all, over the {Megabytes(TotalBytes)} budget";
            if (why is not null)
            {
                refused++;
                refusal ??= why;
                return false;
            }
            reservedBytes += bytes;
            materialised++;
            return true;
        }
    }

    /// <summary>Returns <paramref name="bytes"/> to the budget when a materialised batch is disposed.</summary>
    public void Release(long bytes)
    {
        lock (gate)
            reservedBytes -= bytes;
    }

    /// <summary>Batches that built their Jacobian so far.</summary>
    public int MaterialisedBatches
    {
        get { lock (gate) return materialised; }
    }

    /// <summary>Batches that would have paid off but did not fit the budget.</summary>
    public int RefusedBatches
    {
        get { lock (gate) return refused; }
    }

    /// <summary>What the products ran on, for the engine note: "double-vjp" or "materialised Jacobian" and why.</summary>
    public string Describe()
    {
        lock (gate)
        {
            if (materialised == 0 && refused == 0)
                return "products by double-vjp (no cached batch served enough products to pay for a materialised Jacobian)";
            var parts = new List<string>(2);
            if (materialised > 0)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"materialised Jacobian for {materialised} cached batch(es)"));
            if (refused > 0)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"double-vjp for {refused} cached batch(es): {refusal}"));
            return string.Join(", ", parts);
        }
    }

    private static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:G6} MiB");
}
