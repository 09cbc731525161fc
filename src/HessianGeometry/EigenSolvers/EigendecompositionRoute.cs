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
    /// <summary>The route of <c>torch.linalg.eigh</c> in this process, now.</summary>
    internal static EigendecompositionRoute LibtorchEigh() =>
        new("linalg.eigh (LAPACK syevd, values and vectors)", TorchSharp.torch.get_num_threads(), Internal.MklCodePath.Status);
}
