using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace HessianGeometry.Interop;

/// <summary>
/// Parses and validates a safetensors JSON header against the data region it describes. All checks run here, before
/// any tensor is created, so a malformed file never reaches libtorch.
/// </summary>
/// <remarks>
/// The rules follow the reference implementation (huggingface/safetensors): the header is UTF-8 JSON starting with
/// '{', at most 100 MB; tensor records have <c>dtype</c>, <c>shape</c> and <c>data_offsets</c>; the byte ranges,
/// sorted by offset, must tile the data region exactly — no overlaps, no holes, no trailing bytes — and each range must
/// hold Π shape × element size bytes. Unknown fields inside a tensor record are ignored, as the reference reader does.
/// </remarks>
internal sealed class SafetensorsHeader
{
    /// <summary>The reference implementation's limit on the header size (100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private SafetensorsHeader(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The tensors, sorted by their position in the data region.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Checks the 8-byte length prefix against the total size of the file (null when unknown).</summary>
    public static long CheckedHeaderLength(ReadOnlySpan<byte> prefix, long? totalLength, string source)
    {
        var n = BitConverter.ToUInt64(prefix);
        if (!BitConverter.IsLittleEndian)
            n = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(n);
        if (n > MaxHeaderBytes)
        {
            throw new SafetensorsFormatException(source,
                $"the header length in the first 8 bytes is {n} bytes, over the format's limit of {MaxHeaderBytes} bytes; this is not a safetensors file or its first bytes are corrupt.");
        }
        if (n < 2)
            throw new SafetensorsFormatException(source, $"the header length in the first 8 bytes is {n}; a header is at least the 2 bytes \"{{}}\".");
        if (totalLength is { } total && 8 + (long)n > total)
        {
            throw new SafetensorsFormatException(source,
                $"the header length in the first 8 bytes is {n} bytes but only {total - 8} bytes follow; the file is truncated or not a safetensors file.");
        }
        return (long)n;
    }

    /// <summary>Parses the header bytes and validates the layout against a data region of <paramref name="dataLength"/> bytes.</summary>
    public static SafetensorsHeader Parse(byte[] header, long dataLength, string source)
    {
        if (!Utf8.IsValid(header))
            throw new SafetensorsFormatException(source, "the JSON header is not valid UTF-8.");
        if (header.Length == 0 || header[0] != (byte)'{')
            throw new SafetensorsFormatException(source, $"the JSON header must start with '{{' but starts with byte 0x{(header.Length == 0 ? 0 : header[0]):X2}.");

        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Error(source, "the JSON header must be an object.", ref reader);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var key = reader.GetString()!;
                if (key == "__metadata__")
                {
                    if (metadata is not null)
                        throw Error(source, "the header has two \"__metadata__\" entries.", ref reader);
                    metadata = ReadMetadata(ref reader, source);
                }
                else
                {
                    if (entries.ContainsKey(key))
                        throw Error(source, $"the header lists tensor '{key}' twice.", ref reader, key);
                    entries[key] = ReadEntry(ref reader, key, source);
                }
            }
            // Only whitespace (the writer's padding) may follow the object; anything else makes Read throw.
            if (reader.Read())
                throw Error(source, "the JSON header has content after its closing '}'.", ref reader);
        }
        catch (JsonException ex)
        {
            // The parser's message ends with its own zero-based "LineNumber: … | BytePositionInLine: …"; report one-based positions once.
            var reason = ex.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
                reason = reason[..cut];
            throw new SafetensorsFormatException(source,
                $"the JSON header is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {reason}", innerException: ex);
        }

        var sorted = ValidateLayout(entries.Values, dataLength, source);
        return new SafetensorsHeader(sorted, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal));
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader, string source)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
            return metadata;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Error(source, $"\"__metadata__\" must be an object of strings but is {Describe(reader.TokenType)}.", ref reader);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Error(source, $"\"__metadata__\" entry '{key}' must be a string but is {Describe(reader.TokenType)}.", ref reader);
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw Error(source, $"\"__metadata__\" lists key '{key}' twice.", ref reader);
        }
        return metadata;
    }

    private static SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string name, string source)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Error(source, $"the record of tensor '{name}' must be an object with dtype, shape and data_offsets but is {Describe(reader.TokenType)}.", ref reader, name);
        SafetensorsDType? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    if (dtype is not null)
                        throw Error(source, $"tensor '{name}' has two \"dtype\" fields.", ref reader, name);
                    if (reader.TokenType != JsonTokenType.String)
                        throw Error(source, $"\"dtype\" of tensor '{name}' must be a string but is {Describe(reader.TokenType)}.", ref reader, name);
                    var text = reader.GetString()!;
                    if (!SafetensorsDTypes.TryParse(text, out var parsed))
                        throw Error(source, $"tensor '{name}' has dtype \"{text}\", which is not supported; supported dtypes: {SafetensorsDTypes.SupportedList}.", ref reader, name);
                    dtype = parsed;
                    break;
                case "shape":
                    if (shape is not null)
                        throw Error(source, $"tensor '{name}' has two \"shape\" fields.", ref reader, name);
                    shape = ReadIntegers(ref reader, name, "shape", "dimension", source);
                    break;
                case "data_offsets":
                    if (offsets is not null)
                        throw Error(source, $"tensor '{name}' has two \"data_offsets\" fields.", ref reader, name);
                    offsets = ReadIntegers(ref reader, name, "data_offsets", "offset", source);
                    if (offsets.Length != 2)
                        throw Error(source, $"\"data_offsets\" of tensor '{name}' must be [begin, end] but has {offsets.Length} entries.", ref reader, name);
                    if (offsets[0] > offsets[1])
                        throw Error(source, $"\"data_offsets\" of tensor '{name}' are [{offsets[0]}, {offsets[1]}]: begin is after end.", ref reader, name);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        var missing = new[] { ("dtype", dtype is null), ("shape", shape is null), ("data_offsets", offsets is null) }.Where(m => m.Item2).Select(m => m.Item1).ToList();
        if (missing.Count > 0)
            throw Error(source, $"the record of tensor '{name}' lacks {string.Join(" and ", missing)}.", ref reader, name);
        return new SafetensorsEntry(name, dtype!.Value, Array.AsReadOnly(shape!), offsets![0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string name, string field, string item, string source)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Error(source, $"\"{field}\" of tensor '{name}' must be an array of non-negative integers but is {Describe(reader.TokenType)}.", ref reader, name);
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
            {
                var raw = reader.TokenType switch
                {
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    JsonTokenType.String => $"the string \"{Encoding.UTF8.GetString(reader.ValueSpan)}\"",
                    _ => Describe(reader.TokenType),
                };
                throw Error(source, $"{item} {values.Count} of \"{field}\" of tensor '{name}' is {raw}; {item}s must be non-negative integers below 2^63.", ref reader, name);
            }
            values.Add(value);
        }
        return values.ToArray();
    }

    /// <summary>Checks sizes, bounds and the no-overlap, no-hole tiling of the data region; returns entries in data order.</summary>
    private static List<SafetensorsEntry> ValidateLayout(IEnumerable<SafetensorsEntry> entries, long dataLength, string source)
    {
        foreach (var e in entries)
        {
            long bytes;
            try
            {
                bytes = checked(e.Shape.Aggregate(1L, (acc, d) => acc * d) * e.ElementSize);
            }
            catch (OverflowException)
            {
                throw new SafetensorsFormatException(source, $"tensor '{e.Name}' has shape {Format(e.Shape)}, whose byte count overflows a 64-bit integer.", e.Name);
            }
            if (bytes != e.ByteCount)
            {
                throw new SafetensorsFormatException(source,
                    $"tensor '{e.Name}' ({e.DType}, shape {Format(e.Shape)}) needs {bytes} bytes but its data_offsets [{e.DataBegin}, {e.DataEnd}] span {e.ByteCount} bytes.", e.Name);
            }
            if (e.DataEnd > dataLength)
            {
                throw new SafetensorsFormatException(source,
                    $"data_offsets [{e.DataBegin}, {e.DataEnd}] of tensor '{e.Name}' run past the end of the data region ({dataLength} bytes after the header); the file is truncated or its offsets are wrong.", e.Name);
            }
        }

        // Zero-size tensors sort before a tensor starting at the same offset, so they never look like an overlap.
        var sorted = entries.OrderBy(e => e.DataBegin).ThenBy(e => e.DataEnd).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        long cursor = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in sorted)
        {
            if (e.DataBegin < cursor)
            {
                throw new SafetensorsFormatException(source,
                    $"tensor '{e.Name}' (data_offsets [{e.DataBegin}, {e.DataEnd}]) overlaps tensor '{previous!.Name}' ([{previous.DataBegin}, {previous.DataEnd}]).", e.Name);
            }
            if (e.DataBegin > cursor)
            {
                throw new SafetensorsFormatException(source,
                    $"bytes [{cursor}, {e.DataBegin}) of the data region, before tensor '{e.Name}', belong to no tensor; the format requires the tensors to cover the data region without holes.", e.Name);
            }
            cursor = e.DataEnd;
            previous = e;
        }
        if (cursor != dataLength)
        {
            throw new SafetensorsFormatException(source,
                $"the data region has {dataLength - cursor} bytes after the last tensor's end (byte {cursor} of {dataLength}) that belong to no tensor.");
        }
        return sorted;
    }

    private static SafetensorsFormatException Error(string source, string problem, ref Utf8JsonReader reader, string? tensor = null) =>
        new(source, $"{problem} (header byte {reader.TokenStartIndex})", tensor);

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    public static string Format(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}
