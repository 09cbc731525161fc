using System.Text.Json.Serialization;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>
/// Every option of an analysis, in one immutable record composed of the layers' own option records. The builder
/// produces it and validates it once (<see cref="HessianAnalysisBuilder.Build"/>); the plan runs from it, and every
/// report records it verbatim (<see cref="MinimumReport.Options"/>). Stages whose options are null are not run.
/// Delegates (the parameter filter) and solver instances are not serialised: the report names them instead.
/// </summary>
public sealed record AnalysisOptions
{
    /// <summary>Seed of every random draw: start vectors, probes, ε directions, margin restarts (default <see cref="AnalysisDefaults.Seed"/>).</summary>
    public long Seed { get; init; } = AnalysisDefaults.Seed;

    /// <summary>Restricts θ to the parameters whose names pass the filter; null = all parameters. Not serialised (see <see cref="ParameterSelection"/>).</summary>
    [JsonIgnore]
    public Func<string, bool>? ParameterFilter { get; init; }

    /// <summary>"all", or "custom filter" when <see cref="ParameterFilter"/> is set.</summary>
    public string ParameterSelection => ParameterFilter is null ? "all" : "custom filter";

    /// <summary>The eigen-solver.</summary>
    public SolverOptions Solver { get; init; } = new();

    /// <summary>The largest eigenpairs (Count 0 = none).</summary>
    public EigenpairOptions TopEigenpairs { get; init; } = new();

    /// <summary>The smallest (most negative) eigenpairs (Count 0 = none).</summary>
    public EigenpairOptions BottomEigenpairs { get; init; } = new();

    /// <summary>tr(H), tr(H²) and the Wolkowicz–Styan bounds; null = not computed.</summary>
    public TraceOptions? Trace { get; init; }

    /// <summary>Spectral density by stochastic Lanczos quadrature; null = not computed.</summary>
    public SpectralDensityOptions? SpectralDensity { get; init; }

    /// <summary>HESD classification thresholds, used with <see cref="SpectralDensity"/> (null there: the defaults).</summary>
    public HesdOptions? Hesd { get; init; }

    /// <summary>Alignment of the inputs' loss gradients with the top eigenvectors; null = not computed.</summary>
    public AlignmentOptions? Alignment { get; init; }

    /// <summary>Boundary complexity G (needs <see cref="Alignment"/>); null = not computed.</summary>
    public ComplexityOptions? Complexity { get; init; }

    /// <summary>Margin estimate from the top eigenvector (needs <see cref="Alignment"/>); null = not computed.</summary>
    public MarginOptions? Margin { get; init; }

    /// <summary>
    /// The matrix the eigenpairs, traces and density are computed for (default <see cref="CurvatureKind.Hessian"/>);
    /// alignment, complexity and margin then use its eigenvectors (docs/curvature.md).
    /// </summary>
    public CurvatureKind Curvature { get; init; } = CurvatureKind.Hessian;

    /// <summary>k, labels drawn per input when <see cref="Curvature"/> is <see cref="CurvatureKind.Fisher"/> (default 1).</summary>
    public int FisherSamples { get; init; } = 1;

    /// <summary>Hessian = GGN + residual: top eigenvalues of each, eigenspace overlap and the trace split; null = not computed.</summary>
    public DecompositionOptions? Decomposition { get; init; }
    /// <summary>Per-layer block eigenvalues and traces; null = not computed.</summary>
    public PerLayerOptions? PerLayer { get; init; }

    /// <summary>The Hessian diagonal with per-entry standard errors; null = not computed.</summary>
    public DiagonalOptions? Diagonal { get; init; }

    /// <summary>Per-sample margins, their correlation with the alignment and the boundary curvature (needs <see cref="Alignment"/>); null = not computed.</summary>
    public SampleMarginOptions? SampleMargins { get; init; }

    /// <summary>The dtype the analysis computes in (default <see cref="AnalysisDefaults.Precision"/>).</summary>
    public AnalysisPrecision Precision { get; init; } = AnalysisDefaults.Precision;

    /// <summary>How Hessian-vector products are computed (the report's model section names the engine that ran).</summary>
    public HvpEngine HvpEngine { get; init; } = HvpEngine.Auto;

    /// <summary>Cache the first-order graph or stream mini-batches.</summary>
    public HessianGraphMode GraphMode { get; init; } = HessianGraphMode.Auto;

    /// <summary>Mini-batch size of the data (null = one batch); recorded from the data source.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Refuse a random Hessian before any stage (default <see cref="AnalysisDefaults.CheckDeterminism"/>).</summary>
    public bool CheckDeterminism { get; init; } = AnalysisDefaults.CheckDeterminism;

    /// <summary>Switch a model in training mode to eval for the analysis (its modes are restored afterwards).</summary>
    public bool SwitchToEval { get; init; }

    /// <summary>Largest dense Hessian the exact solver may materialise, in bytes (default <see cref="AnalysisDefaults.ExactMemoryBudgetBytes"/>).</summary>
    public long ExactMemoryBudgetBytes { get; init; } = AnalysisDefaults.ExactMemoryBudgetBytes;

    /// <summary>The exact solver's dense route (default <see cref="EigendecompositionMethod.Auto"/>; see <see cref="HessianAnalysisBuilder.WithEigendecomposition"/>).</summary>
    public EigendecompositionMethod ExactEigendecomposition { get; init; } = EigendecompositionMethod.Auto;

    /// <summary>
    /// Checks everything that does not need the model or the data; the builder adds those checks. Messages say what
    /// was wrong and which builder call changes it.
    /// </summary>
    internal void Validate()
    {
        Guard.NotNull(Solver, nameof(Solver));
        Guard.NotNull(TopEigenpairs, nameof(TopEigenpairs));
        Guard.NotNull(BottomEigenpairs, nameof(BottomEigenpairs));
        Guard.Defined(Solver.Kind, "Solver.Kind");
        if (TopEigenpairs.Count < 0 || BottomEigenpairs.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(TopEigenpairs), $"Eigenpair counts must be non-negative but were top = {TopEigenpairs.Count}, bottom = {BottomEigenpairs.Count}. Pass 0 to skip them, or a positive count.");
        Guard.Positive(TopEigenpairs.Tolerance, "tolerance", "Pass a relative residual tolerance such as 1e-6 to TopEigenpairs(count, tolerance).");
        Guard.Positive(BottomEigenpairs.Tolerance, "bottom tolerance", "Pass a relative residual tolerance such as 1e-6 to BottomEigenpairs(count, tolerance).");
        Guard.Positive(TopEigenpairs.MaxOperatorApplications, "maxOperatorApplications", "Pass a budget of at least 1 Hessian-vector product to MaxOperatorApplications.");
        Guard.Positive(BottomEigenpairs.MaxOperatorApplications, "maxOperatorApplications (bottom)", "Pass a budget of at least 1 Hessian-vector product to MaxOperatorApplications.");
        Guard.Defined(Precision, nameof(Precision));
        Guard.Defined(GraphMode, nameof(GraphMode));
        if (!Enum.IsDefined(HvpEngine))
            throw new ArgumentOutOfRangeException(nameof(HvpEngine), HvpEngine, "Use HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        if (!Enum.IsDefined(ExactEigendecomposition))
            throw new ArgumentOutOfRangeException(nameof(ExactEigendecomposition), ExactEigendecomposition, "Use EigendecompositionMethod.Auto, Full or Range in WithEigendecomposition.");
        Guard.Positive(ExactMemoryBudgetBytes, "memoryBudgetBytes", "Pass the largest dense Hessian allowed, in bytes, to UseExactHessian.");
        if (Trace is { } trace)
        {
            trace.Validate();
            if (trace.Method == TraceMethod.Exact && !Solver.IsExact)
                throw new InvalidOperationException("TraceMethod.Exact needs the materialised Hessian: call UseExactHessian() (or UseSolver(EigenSolverKind.Exact)), or choose Hutchinson or HutchPlusPlus.");
            if (trace.Method == TraceMethod.HutchPlusPlus && trace.MaxProbes < 6)
                throw new ArgumentOutOfRangeException(nameof(Trace), trace.MaxProbes, $"Hutch++ spends MaxProbes products (a third on the sketch) and needs at least 6 but got {trace.MaxProbes}. Raise TraceOptions.MaxProbes.");
        }
        SpectralDensity?.Validate();
        PerLayer?.Validate();
        Diagonal?.Validate();
        if (Complexity is { } complexity)
        {
            Guard.Positive(complexity.RandomDirections, "randomDirections", "Use at least 1 random direction (the paper uses 5).");
            if (complexity.Epsilon is { } e && (!(e > 0) || e >= 1))
                throw new ArgumentOutOfRangeException(nameof(Complexity), e, $"An explicit ε must lie in (0, 1) (it is a threshold on |cos|) but was {e}.");
            Guard.NotNull(complexity.Degeneracy, "ComplexityOptions.Degeneracy");
            Geometry.EigenvalueClustering.Check(complexity.Degeneracy);
        }
        if (SampleMargins is not null)
        {
            SampleMarginEstimator.CheckOptions(SampleMargins);
            if (Alignment is null)
                throw new InvalidOperationException("Per-sample margins are correlated with the alignment: set AnalysisOptions.Alignment (WithSampleMargins turns it on).");
        }
        if ((Complexity is not null || Margin is not null) && Alignment is null)
            throw new InvalidOperationException("Boundary complexity and margin are computed from the alignment: set AnalysisOptions.Alignment (WithBoundaryComplexity and WithMargin turn it on).");
        Guard.Defined(Curvature, nameof(Curvature));
        Guard.Positive(FisherSamples, "fisherSamples", "Draw at least 1 label per input for the Monte-Carlo Fisher (WithCurvature(CurvatureKind.Fisher, fisherSamples: k)).");
        if (Decomposition is { } decomposition)
        {
            decomposition.Validate();
            if (TopEigenpairs.Count == 0)
                throw new InvalidOperationException("The decomposition compares the top-k eigenpairs of H, GGN and residual: call TopEigenpairs(k) with k ≥ 1.");
        }
        if (Alignment is not null && TopEigenpairs.Count == 0)
            throw new InvalidOperationException("Alignment, boundary complexity and margin need eigenvectors: call TopEigenpairs(k) with k ≥ 1 (the paper uses k = 20).");
    }
}
