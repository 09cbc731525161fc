using HessianGeometry.Geometry;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// Per-eigenvector summary of the alignment A_i(x) = cos(g(x), v_i) and per-input quantities. The n × k matrix itself
/// is the report's top-level <c>alignment</c> field (<see cref="Rows"/>), written once.
/// </summary>
public sealed record AlignmentSection
{
    /// <summary>n, the inputs.</summary>
    public int Inputs { get; init; }

    /// <summary>k, the eigenvectors.</summary>
    public int Eigenvectors { get; init; }

    /// <summary>m_i = (1/n) Σ_j |A_i(x_j)| per eigenvector.</summary>
    public double[] MeanAbsAlignment { get; init; } = [];

    /// <summary>max_j |A_i(x_j)| per eigenvector.</summary>
    public double[] MaxAbsAlignment { get; init; } = [];

    /// <summary>‖g(x_j)‖ per input.</summary>
    public double[] GradientNorms { get; init; } = [];

    /// <summary>ŷ_j = argmax f_θ(x_j) per input.</summary>
    public long[] PredictedClasses { get; init; } = [];

    /// <summary>The section for an alignment result.</summary>
    public static AlignmentSection From(AlignmentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new AlignmentSection
        {
            Inputs = result.InputCount,
            Eigenvectors = result.EigenvectorCount,
            MeanAbsAlignment = result.MeanAbsAlignment,
            MaxAbsAlignment = result.MaxAbsAlignment,
            GradientNorms = result.GradientNorms,
            PredictedClasses = result.PredictedClasses,
        };
    }

    /// <summary>The alignment matrix as n rows (inputs in data order) of k signed cosines.</summary>
    public static double[][] Rows(AlignmentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var scope = NewDisposeScope();
        var cpu = result.Alignment.to(ScalarType.Float64).cpu().contiguous();
        var rows = (int)cpu.shape[0];
        var cols = (int)cpu.shape[1];
        var flat = cpu.data<double>().ToArray();
        var matrix = new double[rows][];
        for (var i = 0; i < rows; i++)
            matrix[i] = flat.AsSpan(i * cols, cols).ToArray();
        return matrix;
    }
}
