using HessianGeometry.Internal;

namespace HessianGeometry.Spectrum;

/// <summary>
/// The spectral density estimated by stochastic Lanczos quadrature: per run r, Gauss quadrature nodes θ_j^(r)
/// (Ritz values) and weights τ_j^(r) (squared first components of the eigenvectors of the Lanczos tridiagonal matrix,
/// Σ_j τ_j^(r) = 1), and the smoothed density φ(t) = (1/R)·Σ_r Σ_j τ_j^(r)·N(t; θ_j^(r), σ²) on a uniform grid.
/// φ approximates (1/p)·Σ_i δ(t − λ_i) blurred by the kernel.
/// </summary>
/// <param name="Nodes">Quadrature nodes per run, ascending (a run that hit an invariant subspace has fewer than <paramref name="Steps"/>).</param>
/// <param name="Weights">Quadrature weights per run (non-negative, each run sums to 1).</param>
/// <param name="Grid">Uniform grid spanning [min node − pad, max node + pad].</param>
/// <param name="Density">φ on <paramref name="Grid"/>, as the kernel mass of each grid cell over its width (equal to the point value when the grid step is well below σ).</param>
/// <param name="Runs">R, the number of start vectors.</param>
/// <param name="Steps">Lanczos steps asked for per run (after clamping to p).</param>
/// <param name="Variance">σ² of the smoothing kernel that was used.</param>
/// <param name="OperatorApplications">Operator products spent (one per Lanczos step actually run).</param>
public sealed record SpectralDensity(double[][] Nodes, double[][] Weights, double[] Grid, double[] Density, int Runs, int Steps, double Variance,
    long OperatorApplications)
{
    /// <summary>
    /// The quadrature estimate of tr(A^k)/p: (1/R)·Σ_r Σ_j τ_j^(r)·(θ_j^(r))^k. For k ≤ 2m − 1 run r's term equals
    /// vᵀA^k v/‖v‖² for its Rademacher start vector v (‖v‖² = p), so this is Hutchinson's estimate of tr(A^k)/p with R
    /// probes: unbiased, with error bar <see cref="MomentStandardError"/>. It uses the nodes, not the smoothed density,
    /// whose second moment is larger by σ².
    /// </summary>
    /// <param name="k">The power (0 gives 1).</param>
    public double Moment(int k)
    {
        var perRun = MomentPerRun(k);
        return perRun.Average();
    }

    /// <summary>s/√R over the R per-run moments (NaN for a single run, which has no spread to measure).</summary>
    /// <param name="k">The power.</param>
    public double MomentStandardError(int k)
    {
        var perRun = MomentPerRun(k);
        return perRun.Length < 2 ? double.NaN : TraceSamples.MeanAndStandardError(perRun).StandardError;
    }

    /// <summary>∫φ(t)dt by the trapezoid rule on <see cref="Grid"/>: 1 up to the kernel mass beyond the padding (about 1e-9 by default).</summary>
    public double Integral() => Trapezoid(0);

    /// <summary>
    /// ∫t^k φ(t)dt by the trapezoid rule: the smoothed moments. k = 1 gives <see cref="Moment"/>(1); k = 2 gives
    /// <see cref="Moment"/>(2) + σ² + h²/12, the last term from the cell averaging (negligible when h ≪ σ).
    /// </summary>
    /// <param name="k">The power.</param>
    public double DensityMoment(int k)
    {
        Guard.InRange(k, 0, 64, nameof(k));
        return Trapezoid(k);
    }

    private double Trapezoid(int k)
    {
        double sum = 0;
        for (var i = 0; i + 1 < Grid.Length; i++)
        {
            var h = Grid[i + 1] - Grid[i];
            sum += 0.5 * h * (Density[i] * Math.Pow(Grid[i], k) + Density[i + 1] * Math.Pow(Grid[i + 1], k));
        }
        return sum;
    }

    private double[] MomentPerRun(int k)
    {
        Guard.InRange(k, 0, 64, nameof(k));
        var result = new double[Nodes.Length];
        for (var r = 0; r < Nodes.Length; r++)
        {
            double sum = 0;
            for (var j = 0; j < Nodes[r].Length; j++)
                sum += Weights[r][j] * Math.Pow(Nodes[r][j], k);
            result[r] = sum;
        }
        return result;
    }
}
