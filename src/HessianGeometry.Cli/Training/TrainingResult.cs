namespace HessianGeometry.Cli.Training;

/// <summary>Where training ended.</summary>
/// <param name="Loss">Mean cross-entropy over the training set after the last step.</param>
/// <param name="Accuracy">Fraction of training points whose argmax logit equals the label.</param>
/// <param name="Epochs">Steps taken.</param>
/// <param name="Elapsed">Wall time of the training loop.</param>
public sealed record TrainingResult(double Loss, double Accuracy, int Epochs, TimeSpan Elapsed);
