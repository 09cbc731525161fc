using HessianGeometry.Operators;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Geometry;

/// <summary>
/// The number of linear pieces of a piecewise-linear network crossed on a segment: the activation pattern (which
/// units of every ReLU, LeakyReLU, PReLU and ReLU6 module are active) is read at S + 1 equally spaced points t = j/S of
/// the segment, and pieces = 1 + the number of consecutive points whose patterns differ. A piece narrower than
/// 1/S of the segment can fall between two samples and be missed, so the count is a lower bound at that resolution.
/// </summary>
public static class LinearPieces
{
    private const int RowsPerPass = 16_384;

    /// <summary>
    /// Pieces crossed on each segment starts[i] → ends[i], or null (with <paramref name="reason"/>) when the model has no
    /// hookable piecewise-linear activation module (e.g. a TorchScript model, or activations called as functions).
    /// </summary>
    public static int[]? Count(EmpiricalRisk risk, Tensor starts, Tensor ends, int samples, out string reason)
    {
        ArgumentNullException.ThrowIfNull(risk);
        if (samples < 1)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, "Pass at least 1 sample interval per segment (e.g. 2048).");
        if (!starts.shape.SequenceEqual(ends.shape))
            throw new ArgumentException($"starts {string.Join("x", starts.shape)} and ends {string.Join("x", ends.shape)} must have the same shape.", nameof(ends));
        var activations = risk.Model.modules().OfType<Module>().Where(IsPiecewiseLinearActivation).ToList();
        if (activations.Count == 0)
        {
            reason = "the model has no ReLU, LeakyReLU, PReLU or ReLU6 module whose activation pattern could be read (TorchScript models and functional activations are not hookable)";
            return null;
        }
        reason = "";
        using var scope = NewDisposeScope();
        var m = (int)starts.shape[0];
        var a = risk.PrepareInputs(starts).reshape(m, -1);
        var b = risk.PrepareInputs(ends).reshape(m, -1);
        var rowShape = starts.shape.ToArray();
        var perSegment = samples + 1;
        var segmentsPerPass = Math.Max(1, RowsPerPass / perSegment);
        var counts = new int[m];
        using var t = linspace(0, 1, perSegment, dtype: a.dtype, device: a.device).unsqueeze(1);
        for (var first = 0; first < m; first += segmentsPerPass)
        {
            using var passScope = NewDisposeScope();
            var group = Math.Min(segmentsPerPass, m - first);
            var points = new List<Tensor>();
            for (var i = first; i < first + group; i++)
                points.Add(a[i] + t * (b[i] - a[i]));
            var batch = cat(points, 0);
            rowShape[0] = batch.shape[0];
            var patterns = Patterns(risk, activations, batch.reshape(rowShape)).reshape(group, perSegment, -1);
            var changes = patterns.narrow(1, 1, samples).ne(patterns.narrow(1, 0, samples)).any(2).sum(1).cpu().data<long>().ToArray();
            for (var i = 0; i < group; i++)
                counts[first + i] = (int)changes[i] + 1;
        }
        return counts;
    }

    private static bool IsPiecewiseLinearActivation(Module module) => module is ReLU or LeakyReLU or PReLU or ReLU6;

    /// <summary>The activation pattern per row, [rows, units] of bools, from forward hooks on the activation modules.</summary>
    private static Tensor Patterns(EmpiricalRisk risk, List<Module> activations, Tensor x)
    {
        var rows = x.shape[0];
        var parts = new List<Tensor>();
        var removers = new List<nn.HookableModule<Func<Module, Tensor, Tensor>, Func<Module, Tensor, Tensor, Tensor>>.HookRemover>();
        try
        {
            foreach (var activation in activations)
            {
                var six = activation is ReLU6;
                removers.Add(activation.register_forward_hook((_, _, output) =>
                {
                    // The output decides the pattern (also for in-place activations): active where it is positive, and for ReLU6 also below 6.
                    var flat = output.detach().reshape(rows, -1);
                    parts.Add(six ? cat([flat > 0, flat < 6], 1) : flat > 0);
                    return output;
                }));
            }
            using var _ = no_grad();
            risk.Forward(x);
        }
        finally
        {
            foreach (var r in removers)
                r.remove();
        }
        if (parts.Count == 0)
            return zeros(rows, 1, dtype: ScalarType.Bool);
        return cat(parts, 1);
    }
}
