namespace HessianGeometry.Analysis;

/// <summary>A Gaussian-smoothed spectral density from stochastic Lanczos quadrature, with its quadrature nodes and weights.</summary>
/// <param name="Grid">Grid points t.</param>
/// <param name="Density">Density φ(t) on the grid (integrates to 1).</param>
/// <param name="Nodes">Quadrature nodes per run.</param>
/// <param name="Weights">Quadrature weights per run.</param>
/// <param name="Variance">σ² of the Gaussian kernel.</param>
public sealed record SpectralDensityReport(double[] Grid, double[] Density, double[][] Nodes, double[][] Weights, double Variance);
