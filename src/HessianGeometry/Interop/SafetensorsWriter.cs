using System.Buffers.Binary;
using System.Text.Json;
using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Interop;

/// <summary>
/// Writes tensors in the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (<c>{"__metadata__": {...}, "name": {"dtype", "shape", "data_offsets"}, ...}</c>, padded with spaces to a multiple
/// of 8), then each tensor's bytes, little-endian and row-major, with no gaps.
/// </summary>
/// <remarks>
/// Tensors are laid out by decreasing element size, then by name (ordinal), as the reference writer does: with the
/// 8-byte-aligned header every tensor then starts at a multiple of its element size, and the output is byte-for-byte
/// deterministic for the same inputs.
/// </remarks>
public static class SafetensorsWriter
{
    private const int ChunkBytes = 1 << 24;

    /// <summary>
    /// Writes <paramref name="tensors"/> (any device, any layout; values are copied to the CPU) and optional
    /// <paramref name="metadata"/> to <paramref name="path"/>. The file is written to a temporary sibling and then
    /// moved into place, so a failure never leaves a half-written file under the final name.
    /// </summary>
    /// <param name="path">Destination path; an existing file is replaced.</param>
    /// <param name="tensors">Name → tensor; dtypes Float64, Float32, Float16, BFloat16, Int64, Int32, Int16, Int8, Byte or Bool.</param>
    /// <param name="metadata">Free-form strings stored under <c>__metadata__</c>.</param>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Guard.NotNull(path, nameof(path));
        var layout = Plan(tensors, metadata);
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                WriteLayout(stream, layout, tensors);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    /// <summary>Writes the safetensors bytes to <paramref name="stream"/> (left open). See <see cref="Write"/>.</summary>
    public static void WriteTo(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Guard.NotNull(stream, nameof(stream));
        if (!stream.CanWrite)
            throw new ArgumentException("stream is not writable. Pass a stream opened for writing.", nameof(stream));
        WriteLayout(stream, Plan(tensors, metadata), tensors);
    }

    private sealed record Planned(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End);

    private sealed record Layout(byte[] Header, IReadOnlyList<Planned> Tensors);

    /// <summary>Validates every input and computes the header before any byte is written.</summary>
    private static Layout Plan(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        Guard.NotNull(tensors, nameof(tensors));
        SafetensorsFile.EnsureLittleEndianHost();
        var planned = new List<(string Name, SafetensorsDType DType, long[] Shape, long Bytes)>();
        foreach (var (name, tensor) in tensors)
        {
            if (name == "__metadata__")
                throw new ArgumentException("A tensor cannot be named \"__metadata__\": the format reserves that key. Rename the tensor.", nameof(tensors));
            Guard.Valid(tensor, $"tensor '{name}'");
            if (!SafetensorsDTypes.TryFromTorch(tensor.dtype, out var dtype))
                throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors (as written here) does not support. Convert it to one of {SafetensorsDTypes.SupportedList} (TorchSharp Float64, Float32, Float16, BFloat16, Int64, Int32, Int16, Int8, Byte, Bool).", nameof(tensors));
            planned.Add((name, dtype, tensor.shape, tensor.numel() * SafetensorsDTypes.ElementSize(dtype)));
        }
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (value is null)
                    throw new ArgumentException($"Metadata entry '{key}' is null. Metadata values must be strings; pass an empty string instead.", nameof(metadata));
            }
        }

        var ordered = planned.OrderByDescending(t => SafetensorsDTypes.ElementSize(t.DType)).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        var layout = new List<Planned>(ordered.Count);
        long offset = 0;
        foreach (var t in ordered)
        {
            layout.Add(new Planned(t.Name, t.DType, t.Shape, offset, offset + t.Bytes));
            offset += t.Bytes;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            foreach (var t in layout)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(t.Begin);
                json.WriteNumberValue(t.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Space padding to a multiple of 8 aligns the data region; JSON parsers skip the trailing whitespace.
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        if (buffer.Length > SafetensorsHeader.MaxHeaderBytes)
            throw new ArgumentException($"The header would be {buffer.Length} bytes, over the format's limit of {SafetensorsHeader.MaxHeaderBytes}. Write fewer tensors or less metadata per file.", nameof(tensors));
        return new Layout(buffer.ToArray(), layout);
    }

    private static void WriteLayout(Stream stream, Layout layout, IReadOnlyDictionary<string, Tensor> tensors)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)layout.Header.Length);
        stream.Write(prefix);
        stream.Write(layout.Header);
        foreach (var t in layout.Tensors)
        {
            if (t.End == t.Begin)
                continue;
            using var scope = NewDisposeScope();
            // A CPU, contiguous, flat copy (a view when the tensor already is one) whose bytes are the row-major data.
            var flat = tensors[t.Name].detach().cpu().contiguous().reshape(-1);
            var elementSize = SafetensorsDTypes.ElementSize(t.DType);
            var chunkElements = Math.Max(1, ChunkBytes / elementSize);
            var count = flat.shape[0];
            for (long start = 0; start < count; start += chunkElements)
            {
                using var chunkScope = NewDisposeScope();
                stream.Write(flat.narrow(0, start, Math.Min(chunkElements, count - start)).bytes);
            }
        }
        stream.Flush();
    }
}
