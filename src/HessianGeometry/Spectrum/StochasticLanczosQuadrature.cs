using HessianGeometry.Internal;
using HessianGeometry.Operators;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>
/// Stochastic Lanczos quadrature for the spectral density of a symmetric operator (Ubaru, Chen and Saad 2017, "Fast
/// estimation of tr(f(A)) via stochastic Lanczos quadrature", SIMAX; Ghorbani, Krishnan and Xiao 2019, "An
/// investigation into neural net optimization via Hessian eigenvalue density", ICML; PyHessian, Yao et al. 2020).
/// From a start vector v, m Lanczos steps give A Q_m ≈ Q_m T_m; with T_m = U diag(θ) Uᵀ,
/// vᵀf(A)v/‖v‖² ≈ Σ_j τ_j f(θ_j), τ_j = U_{1j}², the m-point Gauss rule of the spectral measure seen from v. Averaging
/// over Rademacher v (E[vvᵀ] = I) estimates (1/p)·Σ_i f(λ_i); with f a narrow Gaussian it estimates the density.
/// </summary>
public static class StochasticLanczosQuadrature
{
    /// <summary>
    /// Runs <see cref="SpectralDensityOptions.Runs"/> × <see cref="SpectralDensityOptions.Steps"/> Lanczos steps
    /// (full reorthogonalisation in float64) and returns nodes, weights and the smoothed density. A run that reaches an
    /// invariant subspace stops there: the Krylov space then holds v's whole spectral measure and the rule is exact.
    /// </summary>
    /// <param name="op">A symmetric operator (e.g. a loss Hessian).</param>
    /// <param name="options">Runs, steps, grid, kernel variance and seed.</param>
    /// <param name="progress">Receives the number of runs finished.</param>
    /// <param name="cancellationToken">Checked before every Lanczos step.</param>
    public static SpectralDensity Estimate(ILinearOperator op, SpectralDensityOptions? options = null, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(op, nameof(op));
        options ??= new SpectralDensityOptions();
        options.Validate();
        if (!op.IsSymmetric)
            throw new ArgumentException("op is not symmetric; Lanczos quadrature needs A = Aᵀ. Pass a symmetric operator (a Hessian is symmetric).", nameof(op));

        using var scope = NewDisposeScope();
        var p = op.Dimension;
        var steps = (int)Math.Min(options.Steps, p);
        using var generator = RandomVectors.CreateGenerator(options.Seed);
        var nodes = new double[options.Runs][];
        var weights = new double[options.Runs][];
        long applications = 0;
        for (var r = 0; r < options.Runs; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using (NewDisposeScope())
            {
                var start = RandomVectors.Rademacher(p, null, generator, ScalarType.Float64, op.Device);
                var lanczos = LanczosProcess.Run(op, start, steps, restartOnBreakdown: false, generator, cancellationToken);
                applications += lanczos.Alpha.Length;
                (nodes[r], weights[r]) = GaussRule(lanczos.Alpha, lanczos.Beta);
            }
            progress?.Report(r + 1);
        }

        var lowest = nodes.Min(run => run[0]);
        var highest = nodes.Max(run => run[^1]);
        var variance = options.Variance ?? 1e-5 * Math.Max(1.0, highest - lowest);
        var sigma = Math.Sqrt(variance);
        // At least one grid step of margin, so the extreme nodes' kernels never straddle the half-weighted end cells.
        var pad = options.Padding ?? Math.Max(6 * sigma, (highest - lowest) / Math.Max(1.0, options.GridPoints - 3.0));
        if (highest - lowest + 2 * pad <= 0)
            pad = 6 * sigma;
        var (grid, density) = Smooth(nodes, weights, lowest - pad, highest + pad, options.GridPoints, sigma);
        return new SpectralDensity(nodes, weights, grid, density, options.Runs, steps, variance, applications);
    }

    /// <summary>Nodes = eigenvalues of T (ascending), weights = squared first components of its unit eigenvectors.</summary>
    internal static (double[] Nodes, double[] Weights) GaussRule(double[] alpha, double[] beta)
    {
        var m = alpha.Length;
        var t = Matrix<double>.Build.Dense(m, m);
        for (var i = 0; i < m; i++)
        {
            t[i, i] = alpha[i];
            if (i + 1 < m)
            {
                t[i, i + 1] = beta[i];
                t[i + 1, i] = beta[i];
            }
        }
        var evd = t.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, m).OrderBy(j => evd.EigenValues[j].Real).ToArray();
        var nodes = order.Select(j => evd.EigenValues[j].Real).ToArray();
        var firstComponents = order.Select(j => evd.EigenVectors[0, j] * evd.EigenVectors[0, j]).ToArray();
        // The eigenvectors are unit vectors, so the weights sum to 1 up to rounding; renormalising removes that rounding.
        var total = firstComponents.Sum();
        return (nodes, firstComponents.Select(w => w / total).ToArray());
    }

    /// <summary>
    /// φ on a uniform grid: each point holds the kernel mass of its cell [t_i − h/2, t_i + h/2] divided by h (a cell
    /// average, from differences of erf), so Σ h·φ_i is 1 whatever h is compared with σ. For h ≪ σ this equals the point
    /// value (1/R)·Σ τ N(t_i; θ, σ²) to O(h²/σ²); for h ≳ σ point values would miss or double-count the narrow peaks.
    /// Kernels are evaluated within ±10σ of their node (beyond it the mass is below 1e-23).
    /// </summary>
    private static (double[] Grid, double[] Density) Smooth(double[][] nodes, double[][] weights, double lower, double upper, int points, double sigma)
    {
        var grid = new double[points];
        var h = (upper - lower) / (points - 1);
        for (var i = 0; i < points; i++)
            grid[i] = lower + i * h;
        var density = new double[points];
        var runs = nodes.Length;
        var scaleToStandard = 1 / (sigma * Math.Sqrt(2));
        for (var r = 0; r < runs; r++)
        {
            for (var j = 0; j < nodes[r].Length; j++)
            {
                var theta = nodes[r][j];
                var massPerWidth = weights[r][j] / (runs * h);
                // Clamp in double before the cast: a kernel much wider than the grid would overflow int.
                var from = (int)Math.Max(0, Math.Floor((theta - 10 * sigma - lower) / h) - 1);
                var to = (int)Math.Min(points - 1, Math.Ceiling((theta + 10 * sigma - lower) / h) + 1);
                for (var i = from; i <= to; i++)
                {
                    var left = (grid[i] - 0.5 * h - theta) * scaleToStandard;
                    var right = (grid[i] + 0.5 * h - theta) * scaleToStandard;
                    density[i] += massPerWidth * 0.5 * CellMass(left, right);
                }
            }
        }
        return (grid, density);
    }

    /// <summary>erf(b) − erf(a), through erfc on the far side of 0 so that tail cells keep their relative precision.</summary>
    private static double CellMass(double a, double b) =>
        a >= 0 ? SpecialFunctions.Erfc(a) - SpecialFunctions.Erfc(b)
        : b <= 0 ? SpecialFunctions.Erfc(-b) - SpecialFunctions.Erfc(-a)
        : SpecialFunctions.Erf(b) - SpecialFunctions.Erf(a);
}
