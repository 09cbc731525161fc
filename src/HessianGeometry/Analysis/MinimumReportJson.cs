using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace HessianGeometry.Analysis;

/// <summary>Source-generated System.Text.Json metadata for <see cref="MinimumReport"/> (camelCase, stable names, enums as their names).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, UseStringEnumConverter = true)]
[JsonSerializable(typeof(MinimumReport))]
[JsonSerializable(typeof(List<MinimumReport>))]
public sealed partial class MinimumReportJsonContext : JsonSerializerContext;

/// <summary>Reads and writes <see cref="MinimumReport"/> as JSON.</summary>
public static class MinimumReportJson
{
    /// <summary>Serialises a report (indented, camelCase).</summary>
    public static string Serialize(MinimumReport report) => JsonSerializer.Serialize(report, MinimumReportJsonContext.Default.MinimumReport);

    /// <summary>
    /// Deserialises a report, refusing a newer schema than this library understands. A schema-1 document (written before
    /// the report had sections) is rewritten into sections first, so its measurements survive.
    /// </summary>
    public static MinimumReport Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (JsonNode.Parse(json) is JsonObject root && root["schemaVersion"]?.GetValue<int>() == 1)
            json = MinimumReportSchema1.ToSchema2(root).ToJsonString();
        var report = JsonSerializer.Deserialize(json, MinimumReportJsonContext.Default.MinimumReport)
            ?? throw new JsonException("The JSON document is empty (null); expected a MinimumReport object.");
        if (report.SchemaVersion > MinimumReport.CurrentSchemaVersion)
            throw new NotSupportedException($"The report has schema version {report.SchemaVersion}, newer than this library's {MinimumReport.CurrentSchemaVersion}. Upgrade HessianGeometry to read it.");
        return report;
    }
}
