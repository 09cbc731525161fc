namespace HessianGeometry.Interop;

/// <summary>The element-wise nonlinearity between the Linear layers of an <see cref="MlpSpec"/> network.</summary>
public enum MlpActivation
{
    /// <summary>relu(z) = max(z, 0) (PyTorch <c>nn.ReLU</c>).</summary>
    ReLU,

    /// <summary>tanh(z) (PyTorch <c>nn.Tanh</c>).</summary>
    Tanh,

    /// <summary>gelu(z) = z Φ(z) with the exact Gaussian CDF Φ (PyTorch <c>nn.GELU()</c>, approximate="none"; Hendrycks &amp; Gimpel 2016).</summary>
    GELU,

    /// <summary>σ(z) = 1 / (1 + e^{−z}) (PyTorch <c>nn.Sigmoid</c>).</summary>
    Sigmoid,
}
