namespace HessianGeometry.Cli.Training;

/// <summary>Settings of full-batch Adam training.</summary>
public sealed record TrainingOptions
{
    /// <summary>Number of full-batch Adam steps.</summary>
    public int Epochs { get; init; } = 2000;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Seeds torch's global generator before training, so any random op in the model is reproducible.</summary>
    public long Seed { get; init; }

    /// <summary>Report progress every this many epochs (and after the last one).</summary>
    public int ProgressInterval { get; init; } = 100;
}
