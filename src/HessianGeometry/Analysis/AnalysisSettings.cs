namespace HessianGeometry.Analysis;

/// <summary>
/// The schema-1 summary of the settings an analysis ran with, kept so that scripts reading <c>settings</c> in
/// report.json keep working. It is derived from <see cref="AnalysisOptions"/>, which records every option.
/// </summary>
public sealed record AnalysisSettings
{
    /// <summary>The summary of <paramref name="options"/>; <paramref name="model"/> supplies the engine that ran.</summary>
    public static AnalysisSettings From(AnalysisOptions options, ModelSection? model)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AnalysisSettings
        {
            Seed = options.Seed,
            Solver = options.Solver.Name,
            TopEigenpairs = options.TopEigenpairs.Count,
            BottomEigenpairs = options.BottomEigenpairs.Count,
            Tolerance = options.TopEigenpairs.Tolerance,
            MaxOperatorApplications = options.TopEigenpairs.MaxOperatorApplications,
            Trace = options.Trace is not null,
            SpectralDensity = options.SpectralDensity is not null,
            Alignment = options.Alignment is not null,
            BoundaryComplexity = options.Complexity is not null,
            Margin = options.Margin is not null,
            Epsilon = options.Complexity?.Epsilon,
            Precision = options.Precision == AnalysisPrecision.Model ? "model" : options.Precision.ToString(),
            BatchSize = options.BatchSize,
            ExactHessian = options.Solver.IsExact,
            HvpEngine = string.IsNullOrEmpty(model?.HvpEngine) ? "DoubleBackward" : model.HvpEngine,
        };
    }

    /// <summary>Seed for every random draw (probes, start vectors, ε directions, margin restarts).</summary>
    public long Seed { get; init; }

    /// <summary>Eigen-solver name: lanczos, lobpcg, power or exact.</summary>
    public string Solver { get; init; } = EigenSolvers.EigenSolverFactory.NameOf(AnalysisDefaults.Solver);

    /// <summary>Number of top eigenpairs (0 = none).</summary>
    public int TopEigenpairs { get; init; }

    /// <summary>Number of bottom eigenpairs (0 = none).</summary>
    public int BottomEigenpairs { get; init; }

    /// <summary>Relative residual tolerance of the top eigenpairs.</summary>
    public double Tolerance { get; init; } = AnalysisDefaults.Tolerance;

    /// <summary>Budget of operator applications of the top eigen-solve.</summary>
    public long MaxOperatorApplications { get; init; } = AnalysisDefaults.MaxOperatorApplications;

    /// <summary>Whether the trace and Wolkowicz–Styan bounds were requested.</summary>
    public bool Trace { get; init; }

    /// <summary>Whether the spectral density (and HESD type) was requested.</summary>
    public bool SpectralDensity { get; init; }

    /// <summary>Whether alignment was requested.</summary>
    public bool Alignment { get; init; }

    /// <summary>Whether boundary complexity was requested.</summary>
    public bool BoundaryComplexity { get; init; }

    /// <summary>Whether the margin was requested.</summary>
    public bool Margin { get; init; }

    /// <summary>Explicit ε, or null for the random-direction baseline.</summary>
    public double? Epsilon { get; init; }

    /// <summary>Dtype of the analysis: Float32, Float64, or "model" for the model dtype.</summary>
    public string Precision { get; init; } = "Float64";

    /// <summary>Mini-batch size for streamed products (null = one batch, cached graph).</summary>
    public int? BatchSize { get; init; }

    /// <summary>Whether the exact Hessian was materialised (small models).</summary>
    public bool ExactHessian { get; init; }

    /// <summary>The engine the Hessian-vector products ran on: AnalyticMlp or DoubleBackward (see <see cref="Operators.HvpEngine"/>).</summary>
    public string HvpEngine { get; init; } = "DoubleBackward";
}
