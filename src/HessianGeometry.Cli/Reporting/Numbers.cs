using System.Globalization;

namespace HessianGeometry.Cli.Reporting;

/// <summary>One number format for the Markdown report and the console summary: 6 significant digits, invariant culture.</summary>
internal static class Numbers
{
    public const string Missing = "—";

    public static string Format(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "∞",
        double.NegativeInfinity => "−∞",
        _ => value.ToString("G6", CultureInfo.InvariantCulture),
    };

    public static string Format(double? value) => value is { } v ? Format(v) : Missing;

    public static string Format(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double? value) => value is { } v ? (100 * v).ToString("0.##", CultureInfo.InvariantCulture) + " %" : Missing;

    public static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static string PlusMinus(double? value, double? standardError) => value is null
        ? Missing
        : standardError is { } se && se > 0 ? $"{Format(value)} ± {Format(se)}" : Format(value);

    public static string Vector(double[]? values, int maximum = 8)
    {
        if (values is null)
            return Missing;
        var shown = values.Take(maximum).Select(Format);
        return "(" + string.Join(", ", shown) + (values.Length > maximum ? ", …" : string.Empty) + ")";
    }

    public static string YesNo(bool? value) => value switch { true => "yes", false => "no", null => Missing };
}
