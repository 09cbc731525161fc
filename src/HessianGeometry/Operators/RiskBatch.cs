using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// One mini-batch as the empirical risk hands it to a product engine: inputs and targets already in the analysis dtype
/// and on the analysis device, and the factor of this batch's summed loss in the mean loss.
/// </summary>
/// <param name="Index">Position of the batch in the data source's enumeration (for messages).</param>
/// <param name="Inputs">Inputs [b, …] in the analysis dtype and device.</param>
/// <param name="Targets">Targets [b] or [b, …] on the analysis device.</param>
/// <param name="Scale">1/n: L(θ) = Σ_batches Scale · Σ_{i in batch} ℓ_i.</param>
public sealed record RiskBatch(int Index, Tensor Inputs, Tensor Targets, double Scale)
{
    /// <summary>
    /// Index of the batch's first sample among all the samples the analysis covers: the risk's
    /// <see cref="EmpiricalRiskOptions.SampleOffset"/> plus the rows of the batches before it. Per-sample random draws (the
    /// Monte-Carlo Fisher's labels) key on it, so they do not depend on where batches or shards begin.
    /// </summary>
    public long FirstSample { get; init; }

    /// <summary>b, the number of samples in the batch.</summary>
    public long Rows => Inputs.shape[0];
}
