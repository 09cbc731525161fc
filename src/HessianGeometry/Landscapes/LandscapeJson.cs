using System.Text;
using System.Text.Json;
using HessianGeometry.Internal;

namespace HessianGeometry.Landscapes;

/// <summary>
/// Writes a <see cref="LandscapeResult"/> as <c>landscape.json</c>: <c>directions</c>, <c>coordinates</c> (one array per
/// axis), <c>loss</c> and <c>accuracy</c> (an array for a curve, an array of rows [axis 0][axis 1] for a surface; null
/// where not finite), <c>centerLoss</c>, <c>eigenvalues</c> for eigenvector directions, and the rest of the result (see
/// docs/landscapes.md).
/// </summary>
public static class LandscapeJson
{
    /// <summary>The schema of the document; raised when a field changes meaning.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The JSON text (indented, camelCase).</summary>
    public static string Serialize(LandscapeResult result)
    {
        Guard.NotNull(result, nameof(result));
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", SchemaVersion);
            w.WriteString("kind", JsonNamingPolicy.CamelCase.ConvertName(result.Kind.ToString()));
            WriteStrings(w, "directions", result.Directions);
            w.WriteStartArray("coordinates");
            foreach (var axis in result.Coordinates)
                WriteArray(w, null, axis);
            w.WriteEndArray();
            WriteGrid(w, "loss", result, result.LossGrid());
            if (result.AccuracyGrid() is { } accuracy)
                WriteGrid(w, "accuracy", result, accuracy);
            else
                w.WriteNull("accuracy");
            WriteNumber(w, "centerLoss", result.CenterLoss);
            WriteNumber(w, "centerAccuracy", result.CenterAccuracy);
            if (result.Eigenvalues is not null)
                WriteArray(w, "eigenvalues", result.Eigenvalues);
            if (result.QuadraticModel is not null)
            {
                w.WriteStartArray("quadraticModel");
                foreach (var q in result.QuadraticModel)
                {
                    w.WriteStartObject();
                    w.WriteString("direction", q.Direction);
                    WriteNumber(w, "eigenvalue", q.Eigenvalue);
                    WriteArray(w, "quadratic", q.Quadratic);
                    WriteArray(w, "cubicCoefficients", q.CubicCoefficients);
                    WriteArray(w, "quarticCoefficients", q.QuarticCoefficients);
                    WriteNumber(w, "threshold", q.Threshold);
                    WriteNumber(w, "departureNegative", q.DepartureNegative);
                    WriteNumber(w, "departurePositive", q.DeparturePositive);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (result.FilterNormalizedNorms is not null)
                WriteArray(w, "filterNormalizedNorms", result.FilterNormalizedNorms);
            if (result.ExplainedVariance is not null)
                WriteArray(w, "explainedVariance", result.ExplainedVariance);
            w.WriteStartArray("anchors");
            foreach (var a in result.Anchors)
            {
                w.WriteStartObject();
                w.WriteString("name", a.Name);
                WriteArray(w, "coordinates", a.Coordinates);
                WriteNumber(w, "loss", a.Loss);
                WriteNumber(w, "accuracy", a.Accuracy);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteStrings(w, "notes", result.Notes);
            w.WriteString("dtype", result.DType);
            w.WriteNumber("parameters", result.Parameters);
            w.WriteNumber("samples", result.Samples);
            if (result.Seed is { } seed)
                w.WriteNumber("seed", seed);
            w.WriteNumber("evaluations", result.Evaluations);
            w.WriteNumber("wallSeconds", result.WallTime.TotalSeconds);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes <see cref="Serialize"/>'s text to <paramref name="path"/> (folders are created).</summary>
    public static void Write(LandscapeResult result, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        File.WriteAllText(path, Serialize(result));
    }

    private static void WriteGrid(Utf8JsonWriter w, string name, LandscapeResult result, double[][] rows)
    {
        if (result.Dimensions == 1)
        {
            WriteArray(w, name, rows[0]);
            return;
        }
        w.WriteStartArray(name);
        foreach (var row in rows)
            WriteArray(w, null, row);
        w.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void WriteArray(Utf8JsonWriter w, string? name, double[]? values)
    {
        if (values is null)
        {
            w.WriteNull(name!);
            return;
        }
        if (name is null)
            w.WriteStartArray();
        else
            w.WriteStartArray(name);
        foreach (var v in values)
        {
            if (double.IsFinite(v))
                w.WriteNumberValue(v);
            else
                w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
            w.WriteNumber(name, v);
        else
            w.WriteNull(name);
    }
}
