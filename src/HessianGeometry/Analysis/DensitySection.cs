using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>
/// The spectral density by stochastic Lanczos quadrature (Gaussian-smoothed, with its quadrature nodes and weights),
/// its cost, and the HESD classification made from it. Written as the report's <c>spectralDensity</c> object, whose
/// first five fields are those of schema 1.
/// </summary>
public sealed record DensitySection
{
    /// <summary>Grid points t.</summary>
    public double[] Grid { get; init; } = [];

    /// <summary>Density φ(t) on the grid (integrates to 1).</summary>
    public double[] Density { get; init; } = [];

    /// <summary>Quadrature nodes per run.</summary>
    public double[][] Nodes { get; init; } = [];

    /// <summary>Quadrature weights per run.</summary>
    public double[][] Weights { get; init; } = [];

    /// <summary>σ² of the Gaussian kernel.</summary>
    public double Variance { get; init; }

    /// <summary>R, the independent start vectors.</summary>
    public int Runs { get; init; }

    /// <summary>Lanczos steps asked for per run (after clamping to p).</summary>
    public int Steps { get; init; }

    /// <summary>Hessian-vector products spent (at most Runs × Steps; fewer when a run reached an invariant subspace, which is exact, not a shortfall).</summary>
    public long OperatorApplications { get; init; }

    /// <summary>The HESD classification (null only in hand-built reports).</summary>
    public HesdReport? Hesd { get; init; }

    /// <summary>The section for an estimated density and its classification.</summary>
    public static DensitySection From(SpectralDensity density, HesdClassification classification)
    {
        ArgumentNullException.ThrowIfNull(density);
        ArgumentNullException.ThrowIfNull(classification);
        return new DensitySection
        {
            Grid = density.Grid,
            Density = density.Density,
            Nodes = density.Nodes,
            Weights = density.Weights,
            Variance = density.Variance,
            Runs = density.Runs,
            Steps = density.Steps,
            OperatorApplications = density.OperatorApplications,
            Hesd = HesdReport.From(classification),
        };
    }
}
