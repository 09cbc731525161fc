using HessianGeometry.Internal;
using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>
/// Options of the per-layer analysis (<see cref="HessianAnalysisBuilder.PerLayer(PerLayerOptions?)"/>): for every
/// parameter group (<see cref="Operators.ParameterGroups.ByModule"/>) the top eigenvalues of its diagonal block and its
/// trace. Block traces come from the probes of the whole-model trace (no extra products); block eigenvalues cost
/// products per block (see docs/per-layer.md).
/// </summary>
public sealed record PerLayerOptions
{
    /// <summary>Largest eigenvalues per block (default 3; 0 = traces only). Blocks smaller than this give all of theirs.</summary>
    public int EigenvalueCount { get; init; } = 3;

    /// <summary>Relative residual at which a block eigenpair counts as converged (default <see cref="AnalysisDefaults.Tolerance"/>).</summary>
    public double Tolerance { get; init; } = AnalysisDefaults.Tolerance;

    /// <summary>Products allowed per block eigen-solve (default 300).</summary>
    public long MaxOperatorApplicationsPerBlock { get; init; } = 300;

    /// <summary>
    /// Blocks of at most this many coordinates are materialised (one product per coordinate) and decomposed densely
    /// instead of iteratively (default 64): exact, and cheaper than a Krylov solve for small blocks such as biases.
    /// </summary>
    public int DenseBlockLimit { get; init; } = 64;

    /// <summary>
    /// The probes for the block traces when the analysis estimates no trace of its own (with <c>WithTrace()</c>, the
    /// trace's probes serve both; with <c>WithDiagonal()</c> and no trace, the diagonal's). Default: the
    /// <see cref="TraceOptions"/> defaults.
    /// </summary>
    public TraceOptions Probes { get; init; } = new();

    internal void Validate()
    {
        Guard.InRange(EigenvalueCount, 0, int.MaxValue, "PerLayerOptions.EigenvalueCount", "Pass 0 for traces only, or a positive count.");
        Guard.Positive(Tolerance, "PerLayerOptions.Tolerance", "Pass a relative residual tolerance such as 1e-6.");
        Guard.Positive(MaxOperatorApplicationsPerBlock, "PerLayerOptions.MaxOperatorApplicationsPerBlock", "Pass a budget of at least 1 product per block.");
        Guard.InRange(DenseBlockLimit, 0, 4096, "PerLayerOptions.DenseBlockLimit", "Dense blocks cost one product per coordinate; keep the limit small.");
        Guard.NotNull(Probes, "PerLayerOptions.Probes");
        Probes.Validate();
    }
}
