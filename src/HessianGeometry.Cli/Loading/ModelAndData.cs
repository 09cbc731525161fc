using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Loading;

/// <summary>
/// The trained model and its data as the commands that analyse a model (<c>analyze</c>, <c>landscape</c>) read them:
/// both files loaded and checked against each other, the inputs in the model's dtype, and one forward pass run.
/// </summary>
/// <param name="Model">The loaded model (owns the module).</param>
/// <param name="Net">The module the analysis runs: the model's, or its two-class view for <c>--loss bce</c>.</param>
/// <param name="X">Inputs in the model's dtype (integer token ids unchanged).</param>
/// <param name="Y">Targets.</param>
/// <param name="Notes">How the files were read (model notes first, then data notes).</param>
internal sealed record ModelAndData(LoadedModel Model, nn.Module<Tensor, Tensor> Net, Tensor X, Tensor Y, IReadOnlyList<string> Notes) : IDisposable
{
    public static ModelAndData Load(string modelPath, string? arch, string dataPath, string xKey, string yKey, CliLoss loss, Device device)
    {
        var data = AnalysisData.Load(dataPath, xKey, yKey, loss, device);
        var loaded = ModelLoader.Load(modelPath, arch, device);
        try
        {
            if (loaded.Spec is { } spec && !data.X.is_floating_point())
                throw new ArgumentException($"'{xKey}' holds integer inputs ({data.X.dtype}) but the architecture {spec} is an MLP on float features. Pass float inputs, or a TorchScript model that embeds token ids.");
            if (loaded.Spec is { } mlp && (data.X.dim() != 2 || data.X.shape[1] != mlp.InputSize))
                throw new ArgumentException($"'{xKey}' has shape [{string.Join(", ", data.X.shape)}] but the architecture {mlp} expects [n, {mlp.InputSize}].");
            // Token ids stay integers: they index an embedding, they are not values in the model's dtype.
            var x = data.X.is_floating_point() ? data.X.to(loaded.DType) : data.X;
            nn.Module<Tensor, Tensor> net = loss.BinaryLogit ? new Models.TwoClassLogits(loaded.Module) : loaded.Module;
            CheckModelRuns(net, x, modelPath, xKey);
            var notes = loaded.Notes.Concat(data.Notes).ToList();
            if (loss.BinaryLogit)
                notes.Add(CliLoss.BinaryNote);
            return new ModelAndData(loaded, net, x, data.Y, notes);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>Releases the model.</summary>
    public void Dispose() => Model.Dispose();

    /// <summary>
    /// One forward pass on the first sample, without gradients: a TorchScript model fed inputs of the wrong shape fails
    /// here with libtorch's message, reported as bad input (exit 2) instead of a failed analysis.
    /// </summary>
    private static void CheckModelRuns(nn.Module<Tensor, Tensor> net, Tensor x, string modelPath, string xKey)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The analysis runs convolutions with oneDNN and NNPACK off (see ConvolutionBackendScope); so does this pass.
        using var backends = ConvolutionBackendScope.Enter();
        try
        {
            net.call(x.narrow(0, 0, 1));
        }
        catch (System.Runtime.InteropServices.ExternalException ex)
        {
            throw new ArgumentException(
                $"The model '{modelPath}' cannot run on '{xKey}' (one sample of shape [{string.Join(", ", x.shape.Skip(1).Prepend(1L))}], {x.dtype}): " +
                $"{NativeReason(ex.Message)} Pass the inputs the model was exported for, with samples along the first axis.", ex);
        }
    }

    /// <summary>The line of a libtorch message that says what failed (a TorchScript message starts with a generic line and a traceback).</summary>
    private static string NativeReason(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // "IndexError: …", not the "c10::Error::Error(…)" frames of a C++ backtrace.
        var reason = lines.LastOrDefault(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^[A-Za-z]*Error: ")) ?? lines.FirstOrDefault() ?? "libtorch gave no reason";
        return reason.EndsWith('.') ? reason : reason + ".";
    }
}
