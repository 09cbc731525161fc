using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// Entry point of the fluent API:
/// <c>HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(20).WithTrace().WithAlignment().AnalyzeMinimum()</c>.
/// </summary>
public static class HessianAnalysis
{
    /// <summary>Starts configuring an analysis of <paramref name="model"/> at its current parameters.</summary>
    public static HessianAnalysisBuilder For(nn.Module<Tensor, Tensor> model)
    {
        Guard.NotNull(model, nameof(model));
        TorchRuntime.EnsureLoaded();
        return new HessianAnalysisBuilder(model);
    }

    /// <summary>
    /// Starts an analysis of a TorchScript module loaded with <c>torch.jit.load&lt;Tensor, Tensor&gt;(path)</c> (exported
    /// from PyTorch with <c>torch.jit.script</c> or <c>torch.jit.trace</c>); see <see cref="Models.TorchScriptModel"/>.
    /// </summary>
    public static HessianAnalysisBuilder For(jit.ScriptModule<Tensor, Tensor> model)
    {
        Guard.NotNull(model, nameof(model));
        TorchRuntime.EnsureLoaded();
        return new HessianAnalysisBuilder(new Models.TorchScriptModel(model));
    }
}
