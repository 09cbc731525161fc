using static TorchSharp.torch;

namespace HessianGeometry.Cli.Datasets;

/// <summary>A labelled classification data set held as tensors.</summary>
/// <param name="Name">The built-in name it was loaded under (gauss3, moons, …).</param>
/// <param name="X">Inputs, float32 [n, d].</param>
/// <param name="Y">Class labels 0 … Classes−1, int64 [n].</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="FeatureNames">Names of the d input features (used for axis labels and reports).</param>
public sealed record Dataset(string Name, Tensor X, Tensor Y, int Classes, string[] FeatureNames) : IDisposable
{
    /// <summary>n, the number of samples.</summary>
    public int Count => (int)X.shape[0];

    /// <summary>d, the input dimension.</summary>
    public int Dimension => (int)X.shape[1];

    /// <summary>The inputs as rows of doubles (for plotting and reports).</summary>
    public double[][] Rows()
    {
        using var scope = NewDisposeScope();
        var flat = X.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var d = Dimension;
        return Enumerable.Range(0, Count).Select(i => flat.AsSpan(i * d, d).ToArray()).ToArray();
    }

    /// <summary>The labels as an array.</summary>
    public int[] Labels() => Y.data<long>().ToArray().Select(v => (int)v).ToArray();

    /// <summary>Number of samples in each class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        foreach (var label in Labels())
            counts[label]++;
        return counts;
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }
}
