using System.Globalization;
using System.Text.Json.Serialization;

namespace HessianGeometry.Analysis;

/// <summary>
/// Everything <c>AnalyzeMinimum()</c> measured at one point θ of the loss landscape, as sections each built from its
/// domain result by one factory (<see cref="ModelSection"/>, <see cref="EigenpairsSection"/>, <see cref="TraceSection"/>,
/// <see cref="WolkowiczStyanSection"/>, <see cref="DensitySection"/>, <see cref="AlignmentSection"/>,
/// <see cref="ComplexitySection"/>, <see cref="MarginSection"/>, <see cref="TimingsSection"/>) and the options it ran
/// with. Immutable and JSON-serialisable (<see cref="MinimumReportJson"/>). Sections that were not requested are null.
/// The schema-1 fields (<see cref="Parameters"/>, <see cref="Eigenvalues"/>, <see cref="Trace"/>, …) are still written at
/// the top level with their old names and meanings; they are read-only views of the sections, so a deserialised report
/// rebuilds them from its sections.
/// </summary>
public sealed record MinimumReport
{
    /// <summary>The current schema version (2: sections and options added; every schema-1 field kept).</summary>
    public const int CurrentSchemaVersion = 2;

    /// <summary>Version of the report schema.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    // ---- Schema-1 fields, derived from the sections ----

    /// <summary>p, the number of parameters the Hessian is taken over (from <see cref="Model"/>).</summary>
    public long Parameters => Model?.Parameters ?? 0;

    /// <summary>n, the number of samples the mean loss runs over.</summary>
    public long Samples => Model?.Samples ?? 0;

    /// <summary>Name of the loss function.</summary>
    public string LossFunction => Model?.LossFunction ?? string.Empty;

    /// <summary>The mean loss L(θ) over the data.</summary>
    public double Loss => Model?.Loss ?? 0;

    /// <summary>Fraction of samples whose argmax output equals the class label (null for regression targets).</summary>
    public double? Accuracy => Model?.Accuracy;

    /// <summary>The dtype the analysis ran in (e.g. Float64 for a float32 model analysed in float64).</summary>
    public string Precision => Model?.Precision ?? string.Empty;

    /// <summary>The schema-1 summary of the settings (see <see cref="Options"/> for all of them).</summary>
    public AnalysisSettings Settings => AnalysisSettings.From(Options, Model);

    /// <summary>Name of the eigen-solver used for the top (and bottom) eigenpairs.</summary>
    public string? Solver => TopEigenpairs?.Solver ?? BottomEigenpairs?.Solver;

    /// <summary>Largest eigenvalues λ_1 ≥ λ_2 ≥ … of H.</summary>
    public double[]? Eigenvalues => TopEigenpairs?.Eigenvalues;

    /// <summary>‖H v_i − λ_i v_i‖ for each top eigenpair.</summary>
    public double[]? ResidualNorms => TopEigenpairs?.ResidualNorms;

    /// <summary>True when every requested top eigenpair met the tolerance.</summary>
    public bool? EigenpairsConverged => TopEigenpairs?.Converged;

    /// <summary>Smallest (most negative) eigenvalues, ascending.</summary>
    public double[]? BottomEigenvalues => BottomEigenpairs?.Eigenvalues;

    /// <summary>Residual norms of the bottom eigenpairs.</summary>
    public double[]? BottomResidualNorms => BottomEigenpairs?.ResidualNorms;

    /// <summary>tr(H), exact or estimated.</summary>
    public double? Trace => Traces?.Trace;

    /// <summary>Standard error of <see cref="Trace"/> (0 when exact).</summary>
    public double? TraceStandardError => Traces?.TraceStandardError;

    /// <summary>How the trace was obtained: "exact", "hutchinson" or "hutch++".</summary>
    public string? TraceMethod => Traces?.MethodName;

    /// <summary>tr(H²), exact or estimated (null with Hutch++).</summary>
    public double? TraceOfSquare => Traces?.TraceOfSquare;

    /// <summary>Standard error of <see cref="TraceOfSquare"/>.</summary>
    public double? TraceOfSquareStandardError => Traces?.TraceOfSquareStandardError;

    /// <summary>Hessian eigenvalue spectral density type: MainlyPositive, MainlyNegative or QuasiSingular.</summary>
    public string? HesdType => SpectralDensity?.Hesd?.Type;

    /// <summary>The quantities behind <see cref="HesdType"/>.</summary>
    public HesdReport? Hesd => SpectralDensity?.Hesd;

    /// <summary>m_i = (1/n) Σ_j |A_i(x_j)| per eigenvector.</summary>
    public double[]? MeanAbsAlignment => AlignmentSummary?.MeanAbsAlignment;

    /// <summary>m_i = max_j |A_i(x_j)| per eigenvector.</summary>
    public double[]? MaxAbsAlignment => AlignmentSummary?.MaxAbsAlignment;

    /// <summary>The threshold ε and how it was chosen.</summary>
    public EpsilonReport? Epsilon => Complexity?.Epsilon;

    /// <summary>G with the mean variant of m_i: #{i : m_i &gt; ε} / p.</summary>
    public double? ComplexityMean => Complexity?.ComplexityMean;

    /// <summary>G with the max variant of m_i.</summary>
    public double? ComplexityMax => Complexity?.ComplexityMax;

    /// <summary>Indices (0-based) of eigenvectors whose mean |alignment| beats ε: those that encode the boundary.</summary>
    public int[]? EncodingEigenvectors => Complexity?.EncodingEigenvectors;

    /// <summary>Margin estimate min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖).</summary>
    public double? Margin => MarginDetails?.Margin;

    /// <summary>x_b, the input optimised onto the decision boundary.</summary>
    public double[]? BoundaryPoint => MarginDetails?.BoundaryPoint;

    /// <summary>Operator applications (HVPs) per stage.</summary>
    public IReadOnlyDictionary<string, long> HvpCounts => Timings.Stages.ToDictionary(s => s.Stage, s => s.OperatorApplications);

    /// <summary>Total Hessian-vector products.</summary>
    public long HvpCount => Timings.TotalOperatorApplications;

    /// <summary>Wall time per stage, in seconds.</summary>
    public IReadOnlyDictionary<string, double> TimingsSeconds => Timings.Stages.ToDictionary(s => s.Stage, s => s.Seconds);

    /// <summary>The matrix the eigenpairs, traces and density describe, as the CLI spells it: hessian, ggn, fisher or empirical-fisher.</summary>
    public string Curvature => Operators.CurvatureOperators.NameOf(Options.Curvature);

    // ---- Sections ----

    /// <summary>The model and data: sizes, loss, accuracy, dtype, product engine.</summary>
    public ModelSection? Model { get; init; }

    /// <summary>The largest eigenpairs, descending.</summary>
    public EigenpairsSection? TopEigenpairs { get; init; }

    /// <summary>The smallest eigenpairs, ascending.</summary>
    public EigenpairsSection? BottomEigenpairs { get; init; }

    /// <summary>tr(H) and tr(H²) with method, cost and whether the accuracy target was reached.</summary>
    public TraceSection? Traces { get; init; }

    /// <summary>Wolkowicz–Styan bounds on λmax and λmin from the traces (null with Hutch++, which gives no tr(H²)).</summary>
    public WolkowiczStyanSection? WolkowiczStyan { get; init; }

    /// <summary>Spectral density by stochastic Lanczos quadrature, its cost and the HESD classification.</summary>
    public DensitySection? SpectralDensity { get; init; }

    /// <summary>A_i(x_j) = cos(g(x_j), v_i): n rows (inputs in data order) × k columns (eigenvectors).</summary>
    public double[][]? Alignment { get; init; }

    /// <summary>Per-eigenvector and per-input summary of the alignment.</summary>
    public AlignmentSection? AlignmentSummary { get; init; }

    /// <summary>The boundary complexity G, its counts, ε and the encoding eigenvectors.</summary>
    public ComplexitySection? Complexity { get; init; }

    /// <summary>The margin estimate and its diagnostics.</summary>
    public MarginSection? MarginDetails { get; init; }

    /// <summary>H = GGN + R: top eigenvalues of each, eigenspace overlap of H and GGN, trace split (null unless requested).</summary>
    public DecompositionSection? Decomposition { get; init; }
    /// <summary>Per parameter group (module): size, top eigenvalues of its diagonal block and its trace (null when not requested).</summary>
    public IReadOnlyList<LayerSection>? Layers { get; init; }

    /// <summary>diag(H) with per-entry standard errors, inline or in a safetensors file (null when not requested).</summary>
    public DiagonalSection? Diagonal { get; init; }

    /// <summary>Per input (data order), the distance to the nearest decision boundary found by DeepFool and bisection; null where the search failed (see <see cref="SampleMarginDetails"/>).</summary>
    public double?[]? SampleMargins { get; init; }

    /// <summary>Per input, the class pair (own class, other class) its boundary point separates; other = −1 where the search failed.</summary>
    public int[][]? SampleMarginClasses { get; init; }

    /// <summary>Spearman's ρ between each input's margin and its largest |A_i(x)| over the top eigenvectors (negative: inputs near the boundary align best).</summary>
    public double? MarginAlignmentCorrelation { get; init; }

    /// <summary>Principal and mean curvature of the decision boundary at x_b (or the nearest input's boundary point), or a note for piecewise-linear networks.</summary>
    public BoundaryCurvatureSection? BoundaryCurvature { get; init; }

    /// <summary>Distribution, failures and per-sample curvature of the per-sample margins.</summary>
    public SampleMarginSection? SampleMarginDetails { get; init; }

    /// <summary>
    /// How informative the Monte-Carlo Fisher's label draws were (curvature Fisher with cross-entropy); null otherwise.
    /// A budget warning names too few.
    /// </summary>
    public Operators.Engines.MonteCarloDraws? FisherDraws { get; init; }

    /// <summary>Wall time and Hessian-vector products per stage.</summary>
    public TimingsSection Timings { get; init; } = new();

    /// <summary>Every option the analysis ran with.</summary>
    public AnalysisOptions Options { get; init; } = new();

    /// <summary>
    /// One line per stage that ran out of budget before reaching its target (eigenpairs not converged, a trace estimate
    /// wider than asked); empty when every target was met. The values are still valid, with the evidence in their sections.
    /// </summary>
    public IReadOnlyList<string> BudgetWarnings
    {
        get
        {
            var warnings = new List<string>();
            Eigen("Top", TopEigenpairs, Options.TopEigenpairs);
            Eigen("Bottom", BottomEigenpairs, Options.BottomEigenpairs);
            if (Traces is { ReachedTarget: false } t)
            {
                var target = Options.Trace?.RelativeStandardError;
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"Trace: {t.MethodName} used all {t.Probes} probes ({t.OperatorApplications} HVPs) without reaching the relative standard error target{(target is { } r ? $" {r:G3}" : string.Empty)}; the error bars are wider than asked. Raise TraceOptions.MaxProbes (CLI: --trace-probes)."));
            }
            if (FisherDraws?.Warning(Options.FisherSamples) is { } fisher)
                warnings.Add(fisher);
            foreach (var layer in Layers ?? [])
            {
                if (!layer.EigenvaluesConverged)
                    warnings.Add(string.Create(CultureInfo.InvariantCulture,
                        $"Layer {layer.Name}: its block eigenvalues did not all converge within {layer.EigenvalueOperatorApplications} products. Raise PerLayerOptions.MaxOperatorApplicationsPerBlock or loosen PerLayerOptions.Tolerance."));
            }
            return warnings;

            void Eigen(string end, EigenpairsSection? section, EigenpairOptions options)
            {
                if (section is null || section.Converged)
                    return;
                var converged = section.ConvergedPairs.Count(c => c);
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{end} eigenpairs: {converged} of {section.Requested} converged to relative residual {options.Tolerance:G3} within {section.OperatorApplications} HVPs (budget {options.MaxOperatorApplications}). Raise MaxOperatorApplications or loosen the tolerance."));
            }
        }
    }

    /// <summary>Library version that produced the report.</summary>
    public string LibraryVersion { get; init; } = typeof(MinimumReport).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Optional label (e.g. epoch) from the caller.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }
}
