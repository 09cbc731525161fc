using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Where the geometry stages of an analysis (alignment, boundary complexity and its saturation recount, margin, sample
/// margins) get their per-sample quantities: every method returns one row per input, in input order, for inputs given
/// once when the source is made. The default is <see cref="LocalSampleGeometry"/> (the analysis' own risk over its
/// in-memory inputs); a distributed analysis supplies one whose rows are computed by the workers that hold the data, so
/// everything that is not per-sample (means, maxima, counts, the margin's optimisation) runs unchanged on the client.
/// </summary>
internal interface ISampleGeometry
{
    /// <summary>n, the number of inputs.</summary>
    long InputCount { get; }

    /// <summary>
    /// The alignment of every input with every column of <paramref name="directions"/> ([p, k]): with
    /// <paramref name="explicitGradients"/> by the explicit n×p gradient matrix (<see cref="AlignmentMatrix.Compute"/>, for
    /// k ≈ p), otherwise by <see cref="AlignmentAnalyzer.Compute"/>. Mean and max over the inputs are taken over all n rows.
    /// </summary>
    AlignmentResult Alignment(Tensor directions, AlignmentOptions options, bool explicitGradients, CancellationToken cancellationToken);

    /// <summary>‖∂ℓ_j/∂z_j‖_∞ per input (<see cref="SaturatedInputs.OutputGradientScale"/>), labels as <paramref name="options"/> choose.</summary>
    double[] OutputGradientScale(AlignmentOptions options, CancellationToken cancellationToken);

    /// <summary>The inputs at <paramref name="indices"/> (in that order), prepared for the analysis (its dtype and device).</summary>
    Tensor InputRows(long[] indices);

    /// <summary>Per-input margins by DeepFool and bisection (<see cref="SampleMarginEstimator.Estimate"/>), with their summary over all n.</summary>
    SampleMargins SampleMargins(SampleMarginOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// The decision boundary's curvature (<see cref="BoundaryCurvatureEstimator.Compute"/>) at the boundary points of the
    /// inputs at <paramref name="indices"/>, between their classes in <paramref name="margins"/>, in that order; computed
    /// in batches of <see cref="SampleMarginOptions.BatchSize"/> points.
    /// </summary>
    BoundaryCurvature[] CurvatureAtSamples(int[] indices, SampleMargins margins, SampleMarginOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// The linear pieces crossed (<see cref="LinearPieces.Count"/>) on the segment from each input at
    /// <paramref name="indices"/> to its boundary point in <paramref name="margins"/>, in that order; null (with
    /// <paramref name="reason"/>) when the model's pieces cannot be counted.
    /// </summary>
    int[]? PiecesCrossed(int[] indices, SampleMargins margins, int samples, out string reason);
}
