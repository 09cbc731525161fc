using System.Text.Json.Serialization;

namespace HessianGeometry.Analysis;

/// <summary>
/// Everything <c>AnalyzeMinimum()</c> measured at one point θ of the loss landscape.
/// Immutable and JSON-serialisable (<see cref="MinimumReportJson"/>); field names are stable and camelCase, and
/// <see cref="SchemaVersion"/> changes whenever a field changes meaning. Sections that were not requested are null.
/// </summary>
public sealed record MinimumReport
{
    /// <summary>The current schema version.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Version of the report schema.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>p, the number of parameters the Hessian is taken over.</summary>
    public long Parameters { get; init; }

    /// <summary>n, the number of samples the mean loss runs over.</summary>
    public long Samples { get; init; }

    /// <summary>Name of the loss function.</summary>
    public string LossFunction { get; init; } = string.Empty;

    /// <summary>The mean loss L(θ) over the data.</summary>
    public double Loss { get; init; }

    /// <summary>Fraction of samples whose argmax output equals the class label (null for regression targets).</summary>
    public double? Accuracy { get; init; }

    /// <summary>The dtype the analysis ran in (e.g. Float64 for a float32 model analysed in float64).</summary>
    public string Precision { get; init; } = string.Empty;

    /// <summary>The settings the analysis ran with.</summary>
    public AnalysisSettings Settings { get; init; } = new();

    /// <summary>Name of the eigen-solver used for the top (and bottom) eigenpairs.</summary>
    public string? Solver { get; init; }

    /// <summary>Largest eigenvalues λ_1 ≥ λ_2 ≥ … of H.</summary>
    public double[]? Eigenvalues { get; init; }

    /// <summary>‖H v_i − λ_i v_i‖ for each top eigenpair.</summary>
    public double[]? ResidualNorms { get; init; }

    /// <summary>True when every requested top eigenpair met the tolerance.</summary>
    public bool? EigenpairsConverged { get; init; }

    /// <summary>Smallest (most negative) eigenvalues, ascending.</summary>
    public double[]? BottomEigenvalues { get; init; }

    /// <summary>Residual norms of the bottom eigenpairs.</summary>
    public double[]? BottomResidualNorms { get; init; }

    /// <summary>tr(H), exact or estimated.</summary>
    public double? Trace { get; init; }

    /// <summary>Standard error of <see cref="Trace"/> (0 when exact).</summary>
    public double? TraceStandardError { get; init; }

    /// <summary>How the trace was obtained (exact, hutchinson, hutch++).</summary>
    public string? TraceMethod { get; init; }

    /// <summary>tr(H²), exact or estimated.</summary>
    public double? TraceOfSquare { get; init; }

    /// <summary>Standard error of <see cref="TraceOfSquare"/>.</summary>
    public double? TraceOfSquareStandardError { get; init; }

    /// <summary>Wolkowicz–Styan bounds on λmax and λmin from the traces.</summary>
    public WolkowiczStyanReport? WolkowiczStyan { get; init; }

    /// <summary>Hessian eigenvalue spectral density type: MainlyPositive, MainlyNegative or QuasiSingular.</summary>
    public string? HesdType { get; init; }

    /// <summary>The quantities behind <see cref="HesdType"/>.</summary>
    public HesdReport? Hesd { get; init; }

    /// <summary>Spectral density by stochastic Lanczos quadrature.</summary>
    public SpectralDensityReport? SpectralDensity { get; init; }

    /// <summary>A_i(x_j) = cos(g(x_j), v_i): n rows (inputs in data order) × k columns (eigenvectors).</summary>
    public double[][]? Alignment { get; init; }

    /// <summary>m_i = (1/n) Σ_j |A_i(x_j)| per eigenvector.</summary>
    public double[]? MeanAbsAlignment { get; init; }

    /// <summary>m_i = max_j |A_i(x_j)| per eigenvector.</summary>
    public double[]? MaxAbsAlignment { get; init; }

    /// <summary>The threshold ε and how it was chosen.</summary>
    public EpsilonReport? Epsilon { get; init; }

    /// <summary>G with the mean variant of m_i: #{i : m_i &gt; ε} / p.</summary>
    public double? ComplexityMean { get; init; }

    /// <summary>G with the max variant of m_i.</summary>
    public double? ComplexityMax { get; init; }

    /// <summary>Counts behind the complexity measure and whether G is a lower bound.</summary>
    public ComplexityReport? Complexity { get; init; }

    /// <summary>Indices (0-based) of eigenvectors whose mean |alignment| beats ε: those that encode the boundary.</summary>
    public int[]? EncodingEigenvectors { get; init; }

    /// <summary>Margin estimate min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖).</summary>
    public double? Margin { get; init; }

    /// <summary>x_b, the input optimised onto the decision boundary.</summary>
    public double[]? BoundaryPoint { get; init; }

    /// <summary>Diagnostics of the margin estimate.</summary>
    public MarginReport? MarginDetails { get; init; }

    /// <summary>Operator applications (HVPs) per stage and in total.</summary>
    public IReadOnlyDictionary<string, long> HvpCounts { get; init; } = new Dictionary<string, long>();

    /// <summary>Total Hessian-vector products.</summary>
    public long HvpCount { get; init; }

    /// <summary>Wall time per stage, in seconds.</summary>
    public IReadOnlyDictionary<string, double> TimingsSeconds { get; init; } = new Dictionary<string, double>();

    /// <summary>Library version that produced the report.</summary>
    public string LibraryVersion { get; init; } = typeof(MinimumReport).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Optional label (e.g. epoch) from the caller.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }
}
