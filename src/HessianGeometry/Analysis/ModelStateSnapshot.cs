using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Analysis;

/// <summary>
/// Remembers each submodule's train/eval flag so an analysis called from a training loop leaves the model exactly as
/// it found it. Parameters and their .grad are never written by the analysis (it uses autograd.grad, not backward).
/// </summary>
internal sealed class ModelStateSnapshot : IDisposable
{
    private readonly List<(Module Module, bool Training)> modes;

    public ModelStateSnapshot(Module model)
    {
        // named_modules is pre-order (parents before children), which the restore relies on.
        modes = model.named_modules().Select(nm => (nm.module, nm.module.training)).Prepend((model, model.training)).ToList();
    }

    /// <summary>Puts every module in eval mode (dropout off, batch-norm running statistics).</summary>
    public static void SwitchToEval(Module model) => model.eval();

    /// <summary>Restores each module's own flag; train(bool) recurses, so parents go first and children override.</summary>
    public void Dispose()
    {
        foreach (var (module, training) in modes)
            module.train(training);
    }
}
