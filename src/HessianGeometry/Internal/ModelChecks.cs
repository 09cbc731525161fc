using HessianGeometry.Operators;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Internal;

/// <summary>Checks on a model and its data that must pass before anything is differentiated.</summary>
internal static class ModelChecks
{
    /// <summary>Layers whose output is random or batch-dependent in training mode.</summary>
    public static IReadOnlyList<string> StochasticLayersInTrainingMode(Module model)
    {
        var names = new List<string>();
        if (model is Models.TorchScriptModel)
        {
            // Every submodule of a script module reports the type name "ScriptModule": any module in training mode counts.
            foreach (var (name, m) in model.named_modules().Prepend((string.Empty, model)))
            {
                if (m.training)
                    names.Add(string.IsNullOrEmpty(name) ? "the TorchScript module itself" : name);
            }
            return names;
        }
        foreach (var (name, m) in model.named_modules().Prepend((string.Empty, model)))
        {
            var type = m.GetType().Name;
            if (m.training && (type.Contains("Dropout", StringComparison.Ordinal) || type.Contains("BatchNorm", StringComparison.Ordinal)
                || type.Contains("InstanceNorm", StringComparison.Ordinal)))
                names.Add(string.IsNullOrEmpty(name) ? type : $"{name} ({type})");
        }
        return names;
    }

    public static void RefuseTrainingMode(Module model)
    {
        var layers = StochasticLayersInTrainingMode(model);
        if (layers.Count > 0)
        {
            throw new InvalidOperationException(
                $"The model is in training mode and has layers whose output is random or batch-dependent there: {string.Join(", ", layers)}. " +
                "Its Hessian would be random. Call model.eval() before the analysis, or opt in to switching it to eval for the analysis " +
                "(HessianAnalysis ... .SwitchToEvalMode(), or LossHessianOptions.AllowTrainingMode = true to keep training mode).");
        }
    }

    /// <summary>Validates a batch's targets against the model output before the loss is evaluated natively.</summary>
    public static void Targets(LossFunction loss, Tensor output, Tensor targets, int batchIndex)
    {
        var where = $"batch {batchIndex}";
        if (output.dim() == 0 || output.shape[0] != targets.shape[0])
            throw new ArgumentException($"The model output for {where} has shape {Guard.Shape(output)} but there are {targets.shape[0]} targets. The model must return one row per input.");
        switch (loss.Kind)
        {
            case LossKind.CrossEntropy:
            case LossKind.NegativeLogLikelihood:
                if (output.dim() != 2)
                    throw new ArgumentException($"{loss.Name} needs model outputs of shape [b, C] but got {Guard.Shape(output)} for {where}. Flatten the model's output to [b, C].");
                ClassIndices(targets, output.shape[1], where, loss.Name);
                break;
            case LossKind.MeanSquaredError:
                if (targets.dtype == ScalarType.Int64 && targets.dim() == 1 && output.dim() == 2)
                    ClassIndices(targets, output.shape[1], where, loss.Name);
                else if (!targets.shape.SequenceEqual(output.shape))
                    throw new ArgumentException($"mse needs targets shaped like the output {Guard.Shape(output)} (or Int64 class indices) but got {Guard.Shape(targets)} for {where}. Pass one target row per output row, or class indices of shape [b].");
                break;
            default:
                break;
        }
    }

    public static void ClassIndices(Tensor targets, long classes, string where, string lossName)
    {
        if (targets.dtype != ScalarType.Int64)
            throw new ArgumentException($"{lossName} needs Int64 class indices as targets but {where} has dtype {targets.dtype}. Convert them with .to(ScalarType.Int64).");
        if (targets.dim() != 1)
            throw new ArgumentException($"{lossName} needs targets of shape [b] (class indices) but {where} has shape {Guard.Shape(targets)}. Pass one class index per row: targets.reshape(-1), or targets.argmax(1) for one-hot targets.");
        using var scope = NewDisposeScope();
        var min = targets.min().item<long>();
        var max = targets.max().item<long>();
        if (min < 0 || max >= classes)
            throw new ArgumentException($"Labels in {where} range over [{min}, {max}] but the model has {classes} outputs, so labels must lie in [0, {classes - 1}]. Fix the labels or the model's output size.");
    }

    /// <summary>
    /// The summed loss of a batch must be one number: torch.autograd.grad on a non-scalar output without grad_outputs
    /// aborts the process. Only a custom loss that declares a batch reduction can break this.
    /// </summary>
    public static void ScalarLoss(Tensor batchLoss, LossFunction loss, string where)
    {
        if (batchLoss.numel() == 1)
            return;
        var fix = loss.Kind == LossKind.Custom
            ? $"The custom loss was declared with LossReduction.{loss.Reduction}, so it must return a scalar; declare LossReduction.None if it returns one value per sample."
            : "Report this as a bug.";
        throw new ArgumentException($"The loss '{loss.Name}' returned shape {Guard.Shape(batchLoss)} for {where}, but a batch must reduce to one number. {fix}");
    }

    /// <summary>
    /// Every parameter differentiated with respect to must still be alive and require grad: torch.autograd.grad aborts
    /// the process on an input that does not require grad. Cheap (no device synchronisation), so it runs before every pass.
    /// </summary>
    public static void Differentiable(ParameterSpace space)
    {
        for (var i = 0; i < space.Tensors.Count; i++)
        {
            var t = space.Tensors[i];
            if (t is null || t.IsInvalid)
                throw new ObjectDisposedException($"parameter '{space.Names[i]}'", $"Parameter '{space.Names[i]}' has been disposed (was the model disposed?). Keep the model alive while the operator is in use.");
            if (!t.requires_grad)
            {
                throw new InvalidOperationException(
                    $"Parameter '{space.Names[i]}' no longer requires grad (requires_grad was switched off after the operator was created), so autograd cannot differentiate with respect to it. " +
                    "Keep requires_grad on while the operator is in use, or create a new operator without that parameter.");
            }
        }
    }
}
