using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// What the boundary complexity depends on beyond the model: the basis chosen inside degenerate eigenvalue clusters
/// (<see cref="ComplexityDegeneracyAnalysis"/>) and inputs whose gradients a plain pipeline loses to rounding
/// (<see cref="SaturatedInputs"/>). Both are added to the complexity section.
/// </summary>
internal static class ComplexityDependence
{
    /// <summary>Adds <c>degeneracy</c> and <c>saturation</c> to <paramref name="section"/>.</summary>
    /// <param name="op">The operator of the analysis.</param>
    /// <param name="options">The frozen analysis options (seed, alignment options).</param>
    /// <param name="complexity">The complexity options (degeneracy settings).</param>
    /// <param name="geometry">The per-sample quantities of the alignment's inputs.</param>
    /// <param name="alignment">The alignment the count ran over.</param>
    /// <param name="eigenvalues">The eigenvalue of every alignment column.</param>
    /// <param name="residualNorms">The residual of every alignment column.</param>
    /// <param name="computedEnd">Null for all p eigenvectors, else the end the pairs come from.</param>
    /// <param name="epsilon">The thresholds of the count.</param>
    /// <param name="section">The section to extend.</param>
    /// <param name="ct">Cancellation.</param>
    public static ComplexitySection Add(CurvatureOperator op, AnalysisOptions options, ComplexityOptions complexity, ISampleGeometry geometry, AlignmentResult alignment,
        IReadOnlyList<double> eigenvalues, IReadOnlyList<double> residualNorms, SpectrumEnd? computedEnd, EpsilonBaseline epsilon, ComplexitySection section,
        CancellationToken ct)
    {
        var degeneracyOptions = complexity.Degeneracy with
        {
            Seed = options.Seed,
            MachineEpsilon = complexity.Degeneracy.MachineEpsilon
                ?? (op.DType == ScalarType.Float32 ? EigenvalueClustering.Float32Epsilon : EigenvalueClustering.Float64Epsilon),
        };
        var degeneracy = ComplexityDegeneracyAnalysis.Compute(alignment, eigenvalues, residualNorms, op.Dimension, computedEnd, epsilon, degeneracyOptions, ct);
        var saturation = SaturatedInputs.MeasureOn(geometry, op.Risk, alignment, op.Dimension, epsilon, options.Alignment, ct);
        return section with { Degeneracy = degeneracy, Saturation = SaturationSection.From(saturation) };
    }
}
