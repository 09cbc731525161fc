using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Spectrum;

/// <summary>Exact traces of a dense matrix: the references the stochastic estimators are checked against.</summary>
public static class ExactTraces
{
    /// <summary>
    /// tr(A) = Σ_i A_ii and tr(A²) = Σ_ij A_ij A_ji (= ‖A‖_F² for symmetric A), summed in float64.
    /// </summary>
    /// <param name="dense">A square matrix, e.g. from <c>ExactHessian.Compute</c>.</param>
    public static (double Trace, double TraceOfSquare) FromMatrix(Tensor dense)
    {
        Guard.SquareMatrix(dense, nameof(dense));
        Guard.AllFinite(dense, "dense", "Remove NaN/Inf entries before computing its traces.");
        using var scope = NewDisposeScope();
        var a = dense.to(ScalarType.Float64);
        var trace = a.diagonal().sum().item<double>();
        var traceOfSquare = (a * a.T).sum().item<double>();
        return (trace, traceOfSquare);
    }
}
