using SkiaSharp;

namespace HessianGeometry.Cli.Tests.Plotting;

/// <summary>Reads a PNG back: its header dimensions, and its pixels through SkiaSharp.</summary>
internal static class PngImage
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from the IHDR chunk (bytes 16–23, big-endian), after checking the signature.</summary>
    public static (int Width, int Height) Dimensions(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 24, $"{path} is only {bytes.Length} bytes long.");
        Assert.Equal(Signature, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BigEndian(bytes, 16), BigEndian(bytes, 20));
    }

    /// <summary>Number of distinct RGBA colours in the decoded image.</summary>
    public static int DistinctColours(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        return bitmap.Pixels.Select(p => (uint)p).Distinct().Count();
    }

    /// <summary>Fraction of pixels within <paramref name="tolerance"/> per channel of the colour.</summary>
    public static double Fraction(string path, byte red, byte green, byte blue, int tolerance = 2)
    {
        using var bitmap = SKBitmap.Decode(path);
        var pixels = bitmap.Pixels;
        var matching = pixels.Count(p => Math.Abs(p.Red - red) <= tolerance && Math.Abs(p.Green - green) <= tolerance && Math.Abs(p.Blue - blue) <= tolerance);
        return (double)matching / pixels.Length;
    }

    private static int BigEndian(byte[] bytes, int offset) => (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
}
