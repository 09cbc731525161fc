using System.Buffers.Binary;
using System.Text;

namespace HessianGeometry.Tests.Interop;

/// <summary>Paths of the committed fixture files and a builder for hand-made safetensors bytes.</summary>
internal static class Fixtures
{
    /// <summary>The copy of tests/HessianGeometry.Tests/fixtures/<paramref name="name"/> in the test output directory.</summary>
    public static string PathOf(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Fixture '{name}' is not in the test output ({path}). Regenerate it with fixtures/generate_fixtures.py and check the csproj copies fixtures/**.", path);
        return path;
    }

    /// <summary>8-byte little-endian length (default: the real header length) + header text + data.</summary>
    public static byte[] Safetensors(string header, byte[]? data = null, ulong? declaredLength = null)
    {
        var text = Encoding.UTF8.GetBytes(header);
        return Safetensors(text, data, declaredLength);
    }

    public static byte[] Safetensors(byte[] header, byte[]? data = null, ulong? declaredLength = null)
    {
        data ??= [];
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>A unique temporary file path, deleted by the returned handle.</summary>
    public static TemporaryFile TemporaryFile(byte[]? content = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"hg-interop-{Guid.NewGuid():N}.safetensors");
        if (content is not null)
            File.WriteAllBytes(path, content);
        return new TemporaryFile(path);
    }
}

internal sealed class TemporaryFile(string path) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        if (File.Exists(Path))
            File.Delete(Path);
    }
}
