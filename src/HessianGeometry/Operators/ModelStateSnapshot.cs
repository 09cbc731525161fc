using HessianGeometry.Internal;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Operators;

/// <summary>
/// Everything about a model an analysis must leave as it found it, restored bitwise on <see cref="Dispose"/>: parameter
/// values and their <c>.grad</c> (present or absent), buffers (batch-norm running statistics and
/// <c>num_batches_tracked</c>), and each module's train/eval flag. An analysis writes none of these on purpose (it
/// differentiates with <c>autograd.grad</c>, not <c>backward</c>, and runs float64 work on twins), but a model in
/// training mode, a user hook or an interrupted stage could; the snapshot makes the promise hold in every case,
/// including cancellation and exceptions.
/// </summary>
internal sealed class ModelStateSnapshot : IDisposable
{
    private readonly List<(Module Module, bool Training)> modes;
    private readonly List<(Tensor Target, Tensor Copy)> values = [];
    private readonly List<(Tensor Parameter, Tensor? Grad)> grads = [];
    private bool disposed;

    public ModelStateSnapshot(Module model)
    {
        Guard.NotNull(model, nameof(model));
        // named_modules is pre-order (parents before children), which the restore of the modes relies on.
        modes = model.named_modules().Select(nm => (nm.module, nm.module.training)).Prepend((model, model.training)).ToList();
        using var _ = no_grad();
        foreach (var (_, p) in model.named_parameters())
        {
            values.Add((p, Keep(p.detach().clone())));
            grads.Add((p, p.grad is { IsInvalid: false } g ? Keep(g.detach().clone()) : null));
        }
        foreach (var (_, b) in model.named_buffers())
            values.Add((b, Keep(b.detach().clone())));
    }

    /// <summary>Restores every value, gradient and mode; a value that did not change is left alone.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        using (no_grad())
        {
            foreach (var (target, copy) in values)
            {
                if (!target.IsInvalid && !BitwiseEqual(target, copy))
                    target.copy_(copy);
                copy.Dispose();
            }
            foreach (var (parameter, grad) in grads)
            {
                if (parameter.IsInvalid)
                    continue;
                var now = parameter.grad;
                if (grad is null)
                {
                    if (now is { IsInvalid: false })
                        parameter.grad = null;
                }
                else if (now is not { IsInvalid: false } || !BitwiseEqual(now, grad))
                {
                    parameter.grad = grad.clone().DetachFromDisposeScope();
                }
                grad?.Dispose();
            }
        }
        // train(bool) recurses, so parents go first and children override.
        foreach (var (module, training) in modes)
            module.train(training);
    }

    private static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();

    private static bool BitwiseEqual(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        // equal() compares values, so −0 = 0 and NaN ≠ NaN; the byte view is the bitwise truth.
        return a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) &&
            a.cpu().contiguous().bytes.SequenceEqual(b.cpu().contiguous().bytes);
    }
}
