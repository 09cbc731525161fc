namespace HessianGeometry.Geometry;

/// <summary>
/// Per-input distances to the nearest decision boundary found by <see cref="SampleMarginEstimator"/>: for input x₀ of
/// predicted class k, a point x_b on {z_k = z_b} (b the runner-up there) with ‖x_b − x₀‖ as its margin. DeepFool
/// follows the linearised logit gaps, so for a non-linear network the distance is that of the boundary point it found,
/// an upper bound on the true distance to the nearest boundary; for an affine classifier it is exact.
/// </summary>
/// <param name="Distances">‖x_b − x₀‖ per input, in input order; NaN where <see cref="Status"/> is not OnBoundary.</param>
/// <param name="Classes">Per input the pair (k, b): the input's predicted class first, then the class on the other side; b = −1 on failure.</param>
/// <param name="Status">How the search ended, per input. Failures are never dropped silently.</param>
/// <param name="BoundaryPoints">x_b per input, flattened; the last iterate where the search failed.</param>
/// <param name="LogitGaps">|z_k − z_b| at x_b, per input (the bisection's residual, in logit units).</param>
/// <param name="Iterations">DeepFool steps taken per input.</param>
/// <param name="Summary">Distribution of the valid distances (null when none is valid).</param>
public sealed record SampleMargins(
    double[] Distances,
    int[][] Classes,
    SampleMarginStatus[] Status,
    double[][] BoundaryPoints,
    double[] LogitGaps,
    int[] Iterations,
    DistributionSummary? Summary)
{
    /// <summary>Number of inputs whose search failed.</summary>
    public int FailureCount => Status.Count(s => s != SampleMarginStatus.OnBoundary);

    /// <summary>
    /// Spearman's ρ between each input's margin and its largest |A_i(x)| over the eigenvectors of
    /// <paramref name="alignment"/> (failed inputs left out); negative when inputs near the boundary align best.
    /// </summary>
    public double? AlignmentCorrelation(AlignmentResult alignment)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        if (alignment.InputCount != Distances.Length)
            throw new ArgumentException($"The alignment covers {alignment.InputCount} inputs but the margins {Distances.Length}. Pass the alignment of the same inputs.", nameof(alignment));
        return SpearmanCorrelation.Compute(Distances, MaxAbsAlignmentPerInput(alignment));
    }

    /// <summary>max_i |A_i(x_j)| per input j.</summary>
    public static double[] MaxAbsAlignmentPerInput(AlignmentResult alignment)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        using var scope = TorchSharp.torch.NewDisposeScope();
        return alignment.Alignment.to(TorchSharp.torch.ScalarType.Float64).abs().amax([1L]).cpu().data<double>().ToArray();
    }
}
