using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>A colour axis for values drawn as individual markers, so a ScottPlot colour bar can show their scale.</summary>
internal sealed class ValueColorAxis(IColormap colormap, ScottPlot.Range range) : IHasColorAxis
{
    public IColormap Colormap { get; } = colormap;

    public ScottPlot.Range GetRange() => range;
}
