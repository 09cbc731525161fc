using static TorchSharp.torch;

namespace HessianGeometry.Testing;

/// <summary>Closed-form Hessians used as independent references.</summary>
public static class AnalyticHessians
{
    /// <summary>
    /// Softmax regression f(x) = Wx + b with mean cross-entropy: H = (1/n) Σ_i (diag(p_i) − p_i p_iᵀ) ⊗ z_i z_iᵀ,
    /// z_i = [x_i; 1], ordered as PyTorch's Linear lists its parameters: W row-major (C×d) then b (C).
    /// </summary>
    public static Tensor SoftmaxRegression(Tensor weight, Tensor bias, Tensor x)
    {
        using var scope = NewDisposeScope();
        var n = x.shape[0];
        var c = weight.shape[0];
        var d = weight.shape[1];
        var p = nn.functional.softmax(x.mm(weight.T) + bias, 1);
        var h = zeros(c * (d + 1), c * (d + 1), dtype: x.dtype);
        for (long i = 0; i < n; i++)
        {
            var pi = p[i];
            var s = diag(pi) - pi.outer(pi);           // C×C
            var xi = x[i];
            // Blocks: weight-weight s ⊗ x xᵀ, weight-bias s ⊗ x, bias-bias s.
            var ww = kron(s, xi.outer(xi));
            var wb = kron(s, xi.unsqueeze(1));
            var cd = c * d;
            h.narrow(0, 0, cd).narrow(1, 0, cd).add_(ww);
            h.narrow(0, 0, cd).narrow(1, cd, c).add_(wb);
            h.narrow(0, cd, c).narrow(1, 0, cd).add_(wb.T);
            h.narrow(0, cd, c).narrow(1, cd, c).add_(s);
        }
        return (h / n).MoveToOuterDisposeScope();
    }

    /// <summary>Linear least squares f(x) = wᵀx with mean squared error: H = (2/n) XᵀX.</summary>
    public static Tensor LeastSquares(Tensor x) => x.T.mm(x) * (2.0 / x.shape[0]);
}
