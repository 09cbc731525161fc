using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Training;

/// <summary>Wraps a classifier as the plain delegate the plotting package takes (rows of doubles in, argmax classes out).</summary>
public static class ModelPredictor
{
    /// <summary>Inputs per forward pass, so a 300 × 300 plotting grid never builds one huge activation.</summary>
    public const int BatchSize = 8192;

    /// <summary>
    /// A predictor that evaluates <paramref name="model"/> without a graph and returns argmax_c f_c(x) per row. The model
    /// runs in whatever mode it is in (the trainer leaves it in eval mode); rows are converted to the dtype and device of
    /// its first parameter.
    /// </summary>
    public static Func<double[][], int[]> Classifier(nn.Module<Tensor, Tensor> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var first = model.parameters().FirstOrDefault()
            ?? throw new ArgumentException("The model must have parameters but has none; pass a trained classifier.", nameof(model));
        var (dtype, device) = (first.dtype, first.device);
        return rows =>
        {
            ArgumentNullException.ThrowIfNull(rows);
            if (rows.Length == 0)
                return [];
            var d = rows[0].Length;
            var result = new int[rows.Length];
            using var noGrad = no_grad();
            for (var start = 0; start < rows.Length; start += BatchSize)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(BatchSize, rows.Length - start);
                var flat = new double[count * d];
                for (var i = 0; i < count; i++)
                {
                    if (rows[start + i].Length != d)
                        throw new ArgumentException($"Every row must have {d} features but row {start + i} has {rows[start + i].Length}; pass rows of equal length.", nameof(rows));
                    Array.Copy(rows[start + i], 0, flat, i * d, d);
                }
                var x = tensor(flat, [count, d]).to(dtype, device);
                var classes = model.call(x).argmax(1).cpu().data<long>().ToArray();
                for (var i = 0; i < count; i++)
                    result[start + i] = (int)classes[i];
            }
            return result;
        };
    }
}
