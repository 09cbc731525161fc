using ScottPlot;

namespace HessianGeometry.Plotting;

/// <summary>
/// Maps a heatmap of class indices 0 … n−1 to one flat colour per class. With the heatmap's range set to
/// [−½, n−½] ScottPlot hands class c the position (c + ½)/n, which lands inside bin c.
/// </summary>
internal sealed class CategoricalColormap(IReadOnlyList<Color> colors) : IColormap
{
    public string Name => "categorical";

    public Color GetColor(double position)
    {
        if (double.IsNaN(position))
            return Colors.Transparent;
        var index = (int)Math.Floor(position * colors.Count);
        return colors[Math.Clamp(index, 0, colors.Count - 1)];
    }
}
