using HessianGeometry.Operators;

namespace HessianGeometry.Cli.Loading;

/// <summary>
/// The <c>--loss</c> option: a library loss, or <c>bce</c> for a binary classifier with one logit per sample, which is
/// analysed as cross-entropy on the two-class logits [0, f] (<see cref="Models.TwoClassLogits"/>: the same loss of θ).
/// </summary>
/// <param name="Function">The loss the analysis computes.</param>
/// <param name="BinaryLogit">True for <c>bce</c>: the model is wrapped and the labels must be 0 or 1.</param>
internal sealed record CliLoss(LossFunction Function, bool BinaryLogit)
{
    public const string Names = "ce, nll, mse or bce (binary classifier with one logit per sample, BCEWithLogits)";

    public const string BinaryNote = "--loss bce: the model's logit f is analysed as the two-class logits [0, f]; cross-entropy on them is " +
        "BCEWithLogits(f, y) exactly, so the Hessian, GGN, Fisher, margins and accuracy are the binary classifier's (the report names the loss 'ce').";

    public static CliLoss Parse(string name) =>
        name.Trim().ToLowerInvariant() is "bce" or "bce-with-logits" or "binary-cross-entropy"
            ? new CliLoss(LossFunction.CrossEntropy, true)
            : new CliLoss(LossFunction.Parse(name), false);
}
