using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>One batch's share C_B of a curvature matrix, ready to multiply vectors (see <see cref="ICurvatureEngine"/>).</summary>
public interface IBatchCurvature : IDisposable
{
    /// <summary>C_B v, flat [p] in the analysis dtype, in the caller's dispose scope.</summary>
    /// <param name="vector">The vector [p] in the analysis dtype and device.</param>
    /// <param name="keep">Whether another product with this batch follows (an autograd graph must then be retained).</param>
    Tensor Product(Tensor vector, bool keep);

    /// <summary>
    /// Adds C_B v_j to row j of <paramref name="sum"/> [k, p] for the k vectors given as the rows of
    /// <paramref name="rows"/> [k, p]. The default runs one product per row, each in its own dispose scope, so a row's
    /// intermediates are freed before the next.
    /// </summary>
    /// <param name="rows">The vectors as rows [k, p].</param>
    /// <param name="sum">The accumulator [k, p].</param>
    /// <param name="keep">Whether products with this batch follow after these rows.</param>
    void AddProductRows(Tensor rows, Tensor sum, bool keep)
    {
        var k = rows.shape[0];
        for (long j = 0; j < k; j++)
        {
            using var scope = NewDisposeScope();
            sum[j].add_(Product(rows[j], keep || j < k - 1));
        }
    }

    /// <summary>Detaches the batch's tensors from the current dispose scope so that a cache can keep them; returns itself.</summary>
    IBatchCurvature Detach();
}
