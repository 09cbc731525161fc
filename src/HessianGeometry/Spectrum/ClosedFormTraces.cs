namespace HessianGeometry.Spectrum;

/// <summary>
/// tr(H) and tr(H²) = ‖H‖²_F of a one-hidden-layer network's Hessian, computed in closed form by
/// <see cref="OneHiddenLayerTraces"/> without forming H or taking a Hessian-vector product.
/// </summary>
/// <param name="Trace">tr(H).</param>
/// <param name="TraceOfSquare">tr(H²) = ‖H‖²_F (H is symmetric).</param>
/// <param name="Dimension">p, the selected parameters H is taken over.</param>
/// <param name="Samples">n, the samples the risk averages over.</param>
/// <param name="Network">The layers the formula read, e.g. "Linear(4→16) → Tanh → Linear(16→3)".</param>
public sealed record ClosedFormTraces(double Trace, double TraceOfSquare, long Dimension, long Samples, string Network);
