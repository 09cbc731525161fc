namespace HessianGeometry.Analysis;

/// <summary>The dtype an analysis computes in.</summary>
public enum AnalysisPrecision
{
    /// <summary>float64 (default): a float32 model is analysed through float64 twins of its parameters, the model itself untouched.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Named after the torch dtypes Float32/Float64 it selects.")]
    Float64,

    /// <summary>float32: half the memory; eigenvalues, traces and residuals carry float32 rounding, so use tolerances a float32 product can reach.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Named after the torch dtypes Float32/Float64 it selects.")]
    Float32,

    /// <summary>The model's own dtype.</summary>
    Model,
}
