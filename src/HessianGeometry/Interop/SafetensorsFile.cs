using System.Collections;
using System.Diagnostics.CodeAnalysis;
using HessianGeometry.Internal;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Interop;

/// <summary>
/// A validated safetensors file (the Hugging Face format PyTorch checkpoints are shared in): an 8-byte little-endian
/// header length N, N bytes of UTF-8 JSON mapping each tensor name to its dtype, shape and byte range, then the raw
/// little-endian, row-major data. Reading parses and checks the whole header against the file size; tensor data is
/// read only when a tensor is loaded.
/// </summary>
/// <remarks>
/// Every structural check (header size, JSON, dtypes, byte counts, bounds, overlaps, holes) runs when the file is
/// opened and reports a <see cref="SafetensorsFormatException"/>, so no malformed range ever reaches libtorch. The
/// dictionary view lists tensors in data order.
/// </remarks>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the file format it reads; the dictionary view is a convenience.")]
public sealed class SafetensorsFile : IReadOnlyDictionary<string, SafetensorsEntry>
{
    /// <summary>Bytes copied into a tensor per native call, so tensors larger than a .NET span (2 GiB) load too.</summary>
    private const int ChunkBytes = 1 << 24;

    private readonly Dictionary<string, SafetensorsEntry> byName;
    private readonly string? path;
    private readonly long fileLength;
    private readonly byte[]? data;
    private readonly string source;

    private SafetensorsFile(SafetensorsHeader header, long headerLength, string? path, long fileLength, byte[]? data, string source)
    {
        Entries = header.Entries;
        Metadata = header.Metadata;
        HeaderLength = headerLength;
        byName = header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        this.path = path;
        this.fileLength = fileLength;
        this.data = data;
        this.source = source;
    }

    /// <summary>The tensors' header records, in the order their data is stored.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The free-form string map stored under <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>N, the length of the JSON header in bytes; tensor data starts at byte 8 + N.</summary>
    public long HeaderLength { get; }

    /// <summary>The path the file was read from (null when read from a stream).</summary>
    public string? Path => path;

    /// <summary>The number of tensors.</summary>
    public int Count => Entries.Count;

    /// <summary>The tensor names, in data order.</summary>
    public IEnumerable<string> Keys => Entries.Select(e => e.Name);

    /// <summary>The header records, in data order.</summary>
    public IEnumerable<SafetensorsEntry> Values => Entries;

    /// <summary>The header record of tensor <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name; the message lists the names present.</exception>
    public SafetensorsEntry this[string key] => Find(key);

    /// <summary>Opens and validates a safetensors file; tensor data stays on disk until loaded.</summary>
    /// <param name="path">Path of a <c>.safetensors</c> file.</param>
    /// <exception cref="SafetensorsFormatException">The file breaks the format; the message says what and where.</exception>
    public static SafetensorsFile Read(string path)
    {
        Guard.NotNull(path, nameof(path));
        var full = System.IO.Path.GetFullPath(path);
        var source = $"file '{full}'";
        using var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        var length = RandomAccess.GetLength(handle);
        if (length < 8)
            throw new SafetensorsFormatException(source, $"the file has {length} bytes, fewer than the 8-byte header length that starts every safetensors file.");
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(handle, prefix, 0, source);
        var n = SafetensorsHeader.CheckedHeaderLength(prefix, length, source);
        var headerBytes = new byte[n];
        ReadExactly(handle, headerBytes, 8, source);
        var header = SafetensorsHeader.Parse(headerBytes, length - 8 - n, source);
        return new SafetensorsFile(header, n, full, length, null, source);
    }

    /// <summary>
    /// Reads and validates a safetensors file from a stream, reading it to its end and keeping the data in memory (use
    /// <see cref="Read"/> for files over 2 GiB). The stream is not closed.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">The content breaks the format; the message says what and where.</exception>
    public static SafetensorsFile ReadFrom(Stream stream)
    {
        Guard.NotNull(stream, nameof(stream));
        const string source = "stream";
        var prefix = new byte[8];
        var got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (got < 8)
            throw new SafetensorsFormatException(source, $"the stream has {got} bytes, fewer than the 8-byte header length that starts every safetensors file.");
        long? remaining = stream.CanSeek ? stream.Length - stream.Position + 8 : null;
        var n = SafetensorsHeader.CheckedHeaderLength(prefix, remaining, source);
        var headerBytes = new byte[n];
        got = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (got < n)
            throw new SafetensorsFormatException(source, $"the header length in the first 8 bytes is {n} bytes but only {got} bytes follow; the stream is truncated.");
        using var rest = new MemoryStream();
        stream.CopyTo(rest);
        var data = rest.ToArray();
        var header = SafetensorsHeader.Parse(headerBytes, data.LongLength, source);
        return new SafetensorsFile(header, n, null, 8 + n + data.LongLength, data, source);
    }

    /// <summary>
    /// Loads tensor <paramref name="name"/> in its stored dtype (F16 → Float16, BF16 → BFloat16, BOOL → Bool) and shape,
    /// on <paramref name="device"/> (default CPU). The tensor belongs to the caller's dispose scope.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name; the message lists the names present.</exception>
    /// <exception cref="SafetensorsFormatException">The file changed on disk since it was read, or a BOOL tensor holds bytes other than 0 and 1.</exception>
    public Tensor LoadTensor(string name, Device? device = null)
    {
        Guard.NotNull(name, nameof(name));
        var entry = Find(name);
        EnsureLittleEndianHost();
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var tensor = empty(entry.Shape.ToArray(), dtype: entry.TorchDType);
        if (entry.ByteCount > 0)
        {
            using var handle = path is null ? null : OpenUnchanged();
            var flat = tensor.view(-1);
            var elementSize = entry.ElementSize;
            var chunkElements = Math.Max(1, ChunkBytes / elementSize);
            var buffer = new byte[(int)Math.Min(entry.ByteCount, (long)chunkElements * elementSize)];
            for (long start = 0; start < entry.ElementCount; start += chunkElements)
            {
                var count = Math.Min(chunkElements, entry.ElementCount - start);
                var span = buffer.AsSpan(0, (int)(count * elementSize));
                var offset = entry.DataBegin + start * elementSize;
                if (handle is null)
                    data!.AsSpan((int)offset, span.Length).CopyTo(span);
                else
                    ReadExactly(handle, span, 8 + HeaderLength + offset, source);
                if (entry.DType == SafetensorsDType.BOOL)
                    CheckBooleans(span, entry, start);
                flat.narrow(0, start, count).bytes = span;
            }
        }
        var result = device is null || device.type == DeviceType.CPU ? tensor : tensor.to(device);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Loads every tensor (see <see cref="LoadTensor"/>), keyed by name, in data order.</summary>
    public Dictionary<string, Tensor> LoadAll(Device? device = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var e in Entries)
            result[e.Name] = LoadTensor(e.Name, device);
        return result;
    }

    /// <summary>True when a tensor is named <paramref name="key"/>.</summary>
    public bool ContainsKey(string key) => key is not null && byName.ContainsKey(key);

    /// <summary>Looks up the header record of tensor <paramref name="key"/>.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out SafetensorsEntry value)
    {
        if (key is null)
        {
            value = null;
            return false;
        }
        return byName.TryGetValue(key, out value);
    }

    /// <summary>Enumerates (name, record) pairs in data order.</summary>
    public IEnumerator<KeyValuePair<string, SafetensorsEntry>> GetEnumerator() =>
        Entries.Select(e => new KeyValuePair<string, SafetensorsEntry>(e.Name, e)).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal static void EnsureLittleEndianHost()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian and this reader copies it unconverted; run on a little-endian host.");
    }

    private SafetensorsEntry Find(string key)
    {
        if (key is not null && byName.TryGetValue(key, out var entry))
            return entry;
        var names = Entries.Count == 0 ? "none" : string.Join(", ", Entries.Take(20).Select(e => e.Name)) + (Entries.Count > 20 ? $", … ({Entries.Count} in all)" : string.Empty);
        throw new KeyNotFoundException($"The safetensors {source} has no tensor named '{key}'. Tensors present: {names}.");
    }

    private SafeFileHandle OpenUnchanged()
    {
        var handle = File.OpenHandle(path!, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        var length = RandomAccess.GetLength(handle);
        if (length != fileLength)
        {
            handle.Dispose();
            throw new SafetensorsFormatException(source, $"the file is now {length} bytes long but was {fileLength} bytes when it was read; it changed on disk. Read it again.");
        }
        return handle;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string source)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var got = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (got == 0)
                throw new SafetensorsFormatException(source, $"the file ends at byte {offset + total}, before the {buffer.Length} bytes expected at byte {offset}; it is truncated.");
            total += got;
        }
    }

    private void CheckBooleans(ReadOnlySpan<byte> bytes, SafetensorsEntry entry, long firstElement)
    {
        // libtorch assumes a bool byte is 0 or 1; any other value gives undefined results in comparisons and sums.
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] > 1)
                throw new SafetensorsFormatException(source, $"BOOL tensor '{entry.Name}' holds byte {bytes[i]} at element {firstElement + i}; booleans must be stored as 0 or 1.", entry.Name);
        }
    }
}
