namespace HessianGeometry.EigenSolvers;

/// <summary>
/// How a dense symmetric eigen-decomposition was computed, so that its time can be compared with other runs: the
/// routine, the libtorch intra-op threads it ran on, and which kernels libtorch's MKL used (on AMD processors MKL
/// falls back to generic kernels unless its vendor check is bypassed; docs/solvers.md, "Which decomposition").
/// </summary>
/// <param name="Route">The routine, e.g. "linalg.eigh (MKL dsyevd)".</param>
/// <param name="Threads">libtorch intra-op threads (<c>torch.get_num_threads()</c>) during the decomposition.</param>
/// <param name="MklCodePath">What HessianGeometry did to MKL's kernel choice in this process, and MKL's CPU code.</param>
public sealed record EigendecompositionRoute(string Route, int Threads, string MklCodePath)
{
    /// <summary>The method asked for ("auto", "full" or "range"; see <see cref="EigendecompositionMethod"/>); null in reports written before it existed.</summary>
    public string? Requested { get; init; }

    /// <summary>
    /// Range-revealing route only (also when it fell back): r, the dimension of the range found. The p − r other
    /// eigenvalues are reported as 0 and their eigenvectors are an arbitrary orthonormal basis of the null space.
    /// </summary>
    public int? Rank { get; init; }

    /// <summary>Range-revealing route: the certificate ‖A − XΛXᵀ‖_F / ‖A‖_F (every eigenvalue is within ‖A − XΛXᵀ‖_F of a reported one); null when not computed.</summary>
    public double? RelativeError { get; init; }

    /// <summary>Range-revealing route: τ = p·u, the level the certificate was held to.</summary>
    public double? Tolerance { get; init; }

    /// <summary>Why the range-revealing route was not used or gave up (the full decomposition ran instead), or what its residuals are; null otherwise.</summary>
    public string? Note { get; init; }

    /// <summary>The route of <c>torch.linalg.eigh</c> in this process, now.</summary>
    internal static EigendecompositionRoute LibtorchEigh() =>
        new("linalg.eigh (LAPACK syevd, values and vectors)", TorchSharp.torch.get_num_threads(), Internal.MklCodePath.Status);

    /// <summary>The range-revealing route in this process, now.</summary>
    internal static EigendecompositionRoute RangeRevealing() =>
        new("range-revealing (randomized range finder, linalg.eigh of QᵀAQ, Householder null-space basis)", TorchSharp.torch.get_num_threads(), Internal.MklCodePath.Status);
}
