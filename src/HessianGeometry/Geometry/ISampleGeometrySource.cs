namespace HessianGeometry.Geometry;

/// <summary>
/// Implemented by a curvature operator whose data lives elsewhere (a cluster's workers): the analysis then asks it for
/// the per-sample quantities of the geometry stages instead of computing them from its own copy of the inputs.
/// </summary>
internal interface ISampleGeometrySource
{
    /// <summary>The per-sample quantities over the operator's samples, in sample order.</summary>
    ISampleGeometry SampleGeometry { get; }
}
