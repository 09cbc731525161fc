namespace HessianGeometry.Distributed.Grains;

/// <summary>Which per-sample quantity a <see cref="GeometryRequest"/> asks a shard for.</summary>
internal enum GeometryKind
{
    /// <summary>Alignment rows with the broadcast directions by the batched passes (AlignmentAnalyzer).</summary>
    Alignment = 0,

    /// <summary>Alignment rows by the explicit n_s×p gradient matrix (AlignmentMatrix; all p eigenvectors).</summary>
    AlignmentExplicit = 1,

    /// <summary>‖∂ℓ_j/∂z_j‖_∞ per sample (the saturation test).</summary>
    OutputGradientScale = 2,

    /// <summary>Some of the shard's inputs, prepared for the analysis.</summary>
    InputRows = 3,

    /// <summary>Per-sample margins (DeepFool and bisection).</summary>
    SampleMargins = 4,

    /// <summary>The boundary curvature at given boundary points of the shard's inputs.</summary>
    CurvatureAtSamples = 5,

    /// <summary>Linear pieces crossed from given inputs of the shard to their boundary points.</summary>
    PiecesCrossed = 6,
}
