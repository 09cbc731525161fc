namespace HessianGeometry.Spectrum;

/// <summary>
/// The type of a Hessian eigenvalue spectral density (HESD), after Gabdullin 2025, "The effects of Hessian eigenvalue
/// spectral density type on the applicability of Hessian analysis to generalization capability assessment of neural
/// networks" (arXiv 2504.17618). Hessian-based generalization criteria apply to <see cref="MainlyPositive"/> only.
/// </summary>
public enum HesdType
{
    /// <summary>MP-HESD: the positive side dominates (C_t above the threshold). Typical of ordinary training.</summary>
    MainlyPositive,

    /// <summary>MN-HESD: the negative side dominates. The paper links it to external gradient manipulation (e.g. clipping, AdaHessian averaging).</summary>
    MainlyNegative,

    /// <summary>QS-HESD: almost all spectral mass lies near zero. The paper observes it after excessive training.</summary>
    QuasiSingular,
}
