using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// The pass over every batch, without gradients, that runs before anything is differentiated: the model must accept the
/// inputs, the targets must suit the loss, and outputs and losses must be finite. Errors name the batch.
/// </summary>
internal static partial class EmpiricalRiskValidation
{
    public const string NonFiniteLossFix =
        "Check the loss for a log of zero or of a negative number (nll expects log-probabilities: end the model with LogSoftmax), " +
        "and the parameters and inputs for values that overflow; analysing in float64 avoids float32 overflow.";

    /// <summary>Validates every batch and returns n, the number of samples.</summary>
    public static long ValidateData(EmpiricalRisk risk)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = 0;
        var index = 0;
        var loss = risk.LossFunction;
        foreach (var (x, y) in risk.Data.Batches())
        {
            using var batchScope = NewDisposeScope();
            if (risk.Data.Inputs is null)
            {
                // In-memory data was checked once when the DataSource was made; a batch sequence is checked here.
                Guard.AllFinite(x, $"Inputs of batch {index}", "Clean the data before the analysis.");
                Guard.AllFinite(y, $"Targets of batch {index}", "Clean the targets before the analysis.");
            }
            Tensor output;
            try
            {
                output = risk.Forward(x);
            }
            catch (System.Runtime.InteropServices.ExternalException ex)
            {
                var fix = "Check that the inputs' feature size and dtype match the model's first layer." + (x.is_floating_point() ? ""
                    : " Integer inputs are passed on as they are (token ids): every id must be below the embedding's vocabulary size.");
                throw new ArgumentException(
                    $"The model rejected inputs of shape {Guard.Shape(x)} and dtype {x.dtype} (batch {index}): {Reason(ex.Message)}. {fix}", ex);
            }
            if (!output.is_floating_point())
                throw new ArgumentException($"The model returned dtype {output.dtype} on batch {index}; a loss needs floating-point outputs. Return logits or scores from forward, not class indices.");
            var targets = risk.PrepareTargets(y);
            ModelChecks.Targets(loss, output, targets, index);
            Guard.AllFinite(output, $"The model output on batch {index}", "Check the parameters and inputs for NaN/Inf or overflow.");
            Tensor batchLoss;
            try
            {
                batchLoss = loss.Sum(output, targets);
            }
            catch (System.Runtime.InteropServices.ExternalException ex)
            {
                throw new ArgumentException(
                    $"The loss '{loss.Name}' failed on batch {index} (output {Guard.Shape(output)}, targets {Guard.Shape(targets)} {targets.dtype}): {FirstLine(ex.Message)}. " +
                    "Check that the targets have the shape and dtype the loss expects.", ex);
            }
            ModelChecks.ScalarLoss(batchLoss, loss, $"batch {index}");
            Guard.AllFinite(batchLoss, $"The loss on batch {index}", NonFiniteLossFix);
            n += x.shape[0];
            index++;
        }
        return n;
    }

    private static string FirstLine(string message) => message.Split('\n')[0].TrimEnd('.');

    // TorchScript's message starts with a generic line ("The following operation failed in the TorchScript
    // interpreter.") and a traceback; the line that names the error ("IndexError: index out of range in self") says why.
    // Eager errors put the reason first and a C++ backtrace ("c10::Error::Error(…)") after it.
    private static string Reason(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var named = lines.LastOrDefault(l => NamedError().IsMatch(l));
        return (named ?? lines.FirstOrDefault() ?? "libtorch gave no reason").TrimEnd('.');
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z]*Error: ")]
    private static partial System.Text.RegularExpressions.Regex NamedError();
}
