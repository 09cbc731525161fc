namespace HessianGeometry.Landscapes;

/// <summary>
/// A loss landscape: loss and accuracy on a 1-D or 2-D grid θ₀ + c₁ d₁ (+ c₂ d₂). Plain arrays only, so plots and JSON
/// need no tensors.
/// </summary>
/// <param name="Kind">How the directions were chosen.</param>
/// <param name="Directions">One name per axis.</param>
/// <param name="Coordinates">The step values of each axis.</param>
/// <param name="Loss">The mean loss at every grid point, row-major: index i·n₁ + j for (Coordinates[0][i], Coordinates[1][j]). NaN or ∞ where the loss was not finite.</param>
/// <param name="Accuracy">The accuracy in the same layout, for class-index targets (null otherwise).</param>
/// <param name="CenterLoss">The loss at the origin θ₀ (θ* for eigenvector, random and given directions; the final checkpoint for PCA; model A for interpolation and plane).</param>
/// <param name="CenterAccuracy">The accuracy at the origin.</param>
/// <param name="Eigenvalues">λ_k for eigenvector directions.</param>
/// <param name="QuadraticModel">For eigenvector directions, the slice through θ* along each eigenvector compared with L(θ*) + ½λα².</param>
/// <param name="Anchors">Models and checkpoints in these coordinates; models (interpolation, plane) evaluated at exactly their point.</param>
/// <param name="FilterNormalizedNorms">For random directions, ‖d_k‖ after filter normalisation and before the rescaling to unit norm.</param>
/// <param name="ExplainedVariance">For PCA directions, the fraction of the trajectory's squared deviation each explains.</param>
/// <param name="Notes">Arbitrary choices and warnings (signs, degenerate eigenvalues, non-finite losses).</param>
/// <param name="DType">The dtype the loss was computed in.</param>
/// <param name="Parameters">p.</param>
/// <param name="Samples">n.</param>
/// <param name="Seed">The seed of random directions (null for others).</param>
/// <param name="Evaluations">Full-data loss evaluations spent (grid points and anchors).</param>
/// <param name="WallTime">Elapsed time of the evaluation.</param>
public sealed record LandscapeResult(
    LandscapeDirectionKind Kind,
    string[] Directions,
    double[][] Coordinates,
    double[] Loss,
    double[]? Accuracy,
    double CenterLoss,
    double? CenterAccuracy,
    double[]? Eigenvalues,
    QuadraticModelComparison[]? QuadraticModel,
    LandscapeAnchor[] Anchors,
    double[]? FilterNormalizedNorms,
    double[]? ExplainedVariance,
    string[] Notes,
    string DType,
    long Parameters,
    long Samples,
    long? Seed,
    int Evaluations,
    TimeSpan WallTime)
{
    /// <summary>1 for a curve, 2 for a surface.</summary>
    public int Dimensions => Coordinates.Length;

    /// <summary>The loss at grid point (i) of a curve or (i, j) of a surface.</summary>
    public double LossAt(int i, int j = 0) => Loss[Index(i, j)];

    /// <summary>The loss as rows [axis 0][axis 1] (a single row for a curve).</summary>
    public double[][] LossGrid() => Rows(Loss);

    /// <summary>The accuracy as rows [axis 0][axis 1], or null.</summary>
    public double[][]? AccuracyGrid() => Accuracy is null ? null : Rows(Accuracy);

    private int Index(int i, int j) => Dimensions == 1 ? i : i * Coordinates[1].Length + j;

    private double[][] Rows(double[] values)
    {
        if (Dimensions == 1)
            return [values];
        var n1 = Coordinates[1].Length;
        return Enumerable.Range(0, Coordinates[0].Length).Select(i => values.Skip(i * n1).Take(n1).ToArray()).ToArray();
    }
}
