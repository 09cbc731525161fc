using HessianGeometry.Interop;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Loading;

/// <summary>Inputs and targets read from <c>--data</c>, checked against each other and the loss before libtorch sees them.</summary>
/// <param name="X">Inputs [n, …]: floating point, or int64 token ids.</param>
/// <param name="Y">Targets: int64 class indices [n] for ce/nll, or a floating tensor for mse.</param>
/// <param name="Notes">Conversions the user should know about.</param>
internal sealed record AnalysisData(Tensor X, Tensor Y, IReadOnlyList<string> Notes)
{
    /// <summary>
    /// Reads and validates the tensors. Shapes and dtypes are checked here, in C#, because a mismatch that reached a
    /// native matmul or the loss could abort the process instead of raising an exception.
    /// </summary>
    public static AnalysisData Load(string path, string xKey, string yKey, CliLoss cliLoss, Device device)
    {
        var loss = cliLoss.Function;
        var file = SafetensorsFile.Read(path);
        foreach (var key in new[] { xKey, yKey })
        {
            if (!file.ContainsKey(key))
                throw new ArgumentException($"{path} has no tensor '{key}'. Tensors present: {string.Join(", ", file.Keys)}. Pass --x-key/--y-key.");
        }
        var xEntry = file[xKey];
        var yEntry = file[yKey];
        if (xEntry.DType is not (SafetensorsDType.F32 or SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.I32))
            throw new ArgumentException($"'{xKey}' must be float32 or float64 (features, images, sequences of vectors) or int64/int32 (token ids) but has dtype {xEntry.DType}. Save the inputs as float32 (x.float()), float64, or token ids as x.long().");
        if (xEntry.Shape.Count < 2 || xEntry.Shape[0] == 0)
            throw new ArgumentException($"'{xKey}' has shape {Format(xEntry.Shape)} but the inputs must be [n, …] with n ≥ 1 samples along the first axis (e.g. [n, features] or [n, channels, height, width]).");
        if (yEntry.Shape.Count == 0 || yEntry.Shape[0] != xEntry.Shape[0])
            throw new ArgumentException($"'{yKey}' has shape {Format(yEntry.Shape)} but '{xKey}' has {xEntry.Shape[0]} samples: pass one target per input along the first axis.");

        var notes = new List<string>();
        var x = file.LoadTensor(xKey, device);
        var y = file.LoadTensor(yKey, device);
        if (xEntry.DType == SafetensorsDType.I32)
        {
            // Embedding layers take int64 (or int32) indices; int64 is what a model exported from PyTorch was traced with.
            x = x.to(ScalarType.Int64);
            notes.Add($"Inputs '{xKey}' were int32 token ids and were converted to int64.");
        }
        if (cliLoss.BinaryLogit)
        {
            y = BinaryLabels(y, yEntry.Shape, yKey);
            notes.Add($"Labels '{yKey}' ({yEntry.DType}) were read as binary class indices 0/1 (int64).");
        }
        else if (loss.UsesClassTargets)
        {
            if (yEntry.DType is not (SafetensorsDType.I64 or SafetensorsDType.I32))
                throw new ArgumentException($"{loss.Name} needs int64 (or int32) class indices in '{yKey}' but it has dtype {yEntry.DType}. Save the labels with y.long().");
            if (yEntry.Shape.Count != 1)
                throw new ArgumentException($"{loss.Name} needs class indices of shape [n] in '{yKey}' but it has shape {Format(yEntry.Shape)}. Save one class index per sample (y.argmax(1) for one-hot targets).");
            if (yEntry.DType == SafetensorsDType.I32)
            {
                y = y.to(ScalarType.Int64);
                notes.Add($"Labels '{yKey}' were int32 and were converted to int64 (what {loss.Name} needs).");
            }
        }
        else if (!y.is_floating_point() && yEntry.DType != SafetensorsDType.I64)
        {
            throw new ArgumentException($"{loss.Name} needs floating-point targets (or int64 class indices) in '{yKey}' but it has dtype {yEntry.DType}.");
        }
        return new AnalysisData(x, y, notes);
    }

    /// <summary>Labels of a one-logit classifier: 0 or 1, as [n] or [n, 1], integer or float; int64 [n] for the two-class view.</summary>
    private static Tensor BinaryLabels(Tensor y, IReadOnlyList<long> shape, string yKey)
    {
        if (!(shape.Count == 1 || (shape.Count == 2 && shape[1] == 1)))
            throw new ArgumentException($"--loss bce needs one label 0 or 1 per sample in '{yKey}' ([n] or [n, 1]) but it has shape {Format(shape)}. For C ≥ 2 classes use --loss ce.");
        using var flat = y.reshape(-1);
        using var isZero = flat.eq(0);
        using var isOne = flat.eq(1);
        using var valid = isZero.logical_or(isOne);
        if (!valid.all().item<bool>())
            throw new ArgumentException($"--loss bce needs labels that are exactly 0 or 1 in '{yKey}'; soft or other labels are not supported. Round them, or save y.long() for class indices.");
        return flat.to(ScalarType.Int64);
    }

    private static string Format(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}
