namespace HessianGeometry.Analysis;

/// <summary>The frozen, validated settings an analysis ran with (recorded in every report).</summary>
public sealed record AnalysisSettings
{
    /// <summary>Seed for every random draw (probes, start vectors, ε directions, margin restarts).</summary>
    public long Seed { get; init; }

    /// <summary>Eigen-solver name: lanczos, lobpcg, power or exact.</summary>
    public string Solver { get; init; } = "lanczos";

    /// <summary>Number of top eigenpairs (0 = none).</summary>
    public int TopEigenpairs { get; init; }

    /// <summary>Number of bottom eigenpairs (0 = none).</summary>
    public int BottomEigenpairs { get; init; }

    /// <summary>Relative residual tolerance of the eigen-solver.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>Budget of operator applications per eigen-solve.</summary>
    public long MaxOperatorApplications { get; init; } = 5000;

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

    /// <summary>Dtype of the analysis (Float32 or Float64).</summary>
    public string Precision { get; init; } = "Float64";

    /// <summary>Mini-batch size for streamed products (null = one batch, cached graph).</summary>
    public int? BatchSize { get; init; }

    /// <summary>Whether the exact Hessian was materialised (small models).</summary>
    public bool ExactHessian { get; init; }

    /// <summary>The engine the Hessian-vector products ran on: AnalyticMlp or DoubleBackward (see <see cref="Operators.HvpEngine"/>).</summary>
    public string HvpEngine { get; init; } = "DoubleBackward";
}
