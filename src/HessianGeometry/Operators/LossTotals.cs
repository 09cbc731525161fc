namespace HessianGeometry.Operators;

/// <summary>
/// The loss and the correct predictions summed over a risk's samples in float64, kept as sums so that shards or batches
/// add exactly (<see cref="EmpiricalRisk.LossTotals"/>).
/// </summary>
/// <param name="LossSum">Σᵢ ℓᵢ in float64.</param>
/// <param name="Correct">Samples whose arg-max output equals the label (classification only).</param>
/// <param name="Classification">True when every batch had int64 labels [n] and outputs [n, C], so accuracy is defined.</param>
/// <param name="Samples">Samples summed.</param>
/// <param name="FirstNonFiniteBatch">Index of the first batch whose loss sum was NaN or infinite; null when all were finite.</param>
public sealed record LossTotals(double LossSum, long Correct, bool Classification, long Samples, int? FirstNonFiniteBatch)
{
    /// <summary>The mean loss Σᵢ ℓᵢ / n.</summary>
    public double MeanLoss => LossSum / Samples;

    /// <summary>The accuracy, or null when the task is not classification.</summary>
    public double? Accuracy => Classification ? (double)Correct / Samples : null;
}
