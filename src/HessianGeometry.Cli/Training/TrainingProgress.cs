namespace HessianGeometry.Cli.Training;

/// <summary>Progress of <see cref="MlpTrainer.Train"/>.</summary>
/// <param name="Epoch">Epochs completed.</param>
/// <param name="Epochs">Epochs requested.</param>
/// <param name="Loss">Mean cross-entropy before the last step.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, double Loss)
{
    /// <summary>Fraction done, in [0, 1].</summary>
    public double Fraction => Epochs == 0 ? 1 : (double)Epoch / Epochs;
}
