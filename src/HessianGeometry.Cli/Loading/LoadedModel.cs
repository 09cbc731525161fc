using HessianGeometry.Interop;
using HessianGeometry.Models;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Loading;

/// <summary>A model read from <c>--model</c>: the module, what the file was, and notes for the console and report.md.</summary>
/// <param name="Module">The module to analyse (eval mode).</param>
/// <param name="Kind">What the file was recognised as.</param>
/// <param name="Spec">The <c>--arch</c> spec for a state dict; null for a TorchScript file, which carries its architecture.</param>
/// <param name="Notes">Things the user should know about how the file was read (one sentence each).</param>
internal sealed record LoadedModel(nn.Module<Tensor, Tensor> Module, ModelFileKind Kind, MlpSpec? Spec, IReadOnlyList<string> Notes)
    : IDisposable
{
    /// <summary>Releases the module's native tensors (a TorchScript model owns its script module).</summary>
    public void Dispose() => Module.Dispose();

    /// <summary>The dtype of the model's floating-point parameters (what the data is converted to).</summary>
    public ScalarType DType => Module.parameters().Select(p => p.dtype).FirstOrDefault(ScalarType.Float32);
}
