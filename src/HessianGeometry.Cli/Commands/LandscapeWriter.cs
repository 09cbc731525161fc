using HessianGeometry.Landscapes;
using HessianGeometry.Plotting;

namespace HessianGeometry.Cli.Commands;

/// <summary>Writes landscape.json and the PNGs of a landscape into the output folder.</summary>
internal static class LandscapeWriter
{
    /// <summary>Writes the files and returns their names: landscape.json; landscape.png (curve or surface); for a 2-D eigenvector landscape also the two slices landscape-v1.png and landscape-v2.png.</summary>
    public static List<string> Write(LandscapeResult result, string outDir)
    {
        Directory.CreateDirectory(outDir);
        var files = new List<string>();
        LandscapeJson.Write(result, Path.Combine(outDir, "landscape.json"));
        files.Add("landscape.json");
        if (result.Dimensions == 1)
        {
            LandscapePlots.Curve(result, Path.Combine(outDir, "landscape.png"));
            files.Add("landscape.png");
            return files;
        }
        if (result.Loss.Any(double.IsFinite))
        {
            LandscapePlots.Surface(result, Path.Combine(outDir, "landscape.png"));
            files.Add("landscape.png");
        }
        if (result.QuadraticModel is not null)
        {
            for (var k = 0; k < result.Dimensions; k++)
            {
                var name = $"landscape-{result.Directions[k]}.png";
                LandscapePlots.Curve(result, Path.Combine(outDir, name), k);
                files.Add(name);
            }
        }
        return files;
    }
}
