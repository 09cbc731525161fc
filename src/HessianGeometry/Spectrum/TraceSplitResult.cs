namespace HessianGeometry.Spectrum;

/// <summary>tr H, tr G and tr R = tr H − tr G from the same probes (<see cref="TraceSplit"/>); each estimate's operator applications are per operator.</summary>
/// <param name="Hessian">tr H.</param>
/// <param name="Ggn">tr G.</param>
/// <param name="Residual">tr R, whose samples are the differences of the other two.</param>
public sealed record TraceSplitResult(TraceEstimate Hessian, TraceEstimate Ggn, TraceEstimate Residual);
