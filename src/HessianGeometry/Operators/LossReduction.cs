namespace HessianGeometry.Operators;

/// <summary>How a user-supplied loss reduces over the batch.</summary>
public enum LossReduction
{
    /// <summary>Returns one loss per sample (shape [b]); required for per-sample geometry.</summary>
    None,

    /// <summary>Returns the sum over the batch.</summary>
    Sum,

    /// <summary>Returns the mean over the batch.</summary>
    Mean,
}
