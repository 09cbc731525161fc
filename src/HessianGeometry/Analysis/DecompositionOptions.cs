namespace HessianGeometry.Analysis;

/// <summary>Options of the decomposition H = GGN + R (<see cref="HessianAnalysisBuilder.WithDecomposition"/>).</summary>
public sealed record DecompositionOptions
{
    /// <summary>
    /// Rademacher probes for the trace split (default 64, no stopping rule, so all three traces use exactly the same
    /// probes and tr H = tr GGN + tr R holds to round-off). With the exact solver the traces are exact instead.
    /// </summary>
    public int TraceProbes { get; init; } = 64;

    internal void Validate()
    {
        if (TraceProbes < 2)
            throw new ArgumentOutOfRangeException(nameof(TraceProbes), TraceProbes, $"The trace split needs at least 2 probes for a standard error but got {TraceProbes}. Raise DecompositionOptions.TraceProbes.");
    }
}
