using System.Buffers.Binary;
using System.Text;

namespace HessianGeometry.Internal;

/// <summary>
/// The symbol versions a little-endian ELF64 shared library needs from other libraries (<c>.gnu.version_r</c>, with the
/// weak flag the HessianGeometry build targets set) and the versions it defines (<c>.gnu.version_d</c>): what
/// <c>ldd</c>/<c>objdump -p</c> would show, read in managed code so the load diagnosis works without binutils.
/// </summary>
/// <param name="Needs">Each needed version: the library it is needed from, its name, and whether it is marked weak.</param>
/// <param name="Defines">Every version name the library defines (for libstdc++: GLIBCXX_3.4 … GLIBCXX_3.4.30, CXXABI_…).</param>
internal sealed record ElfSymbolVersions(IReadOnlyList<(string Library, string Version, bool Weak)> Needs, IReadOnlyList<string> Defines)
{
    private const uint VersionNeeds = 0x6ffffffe; // SHT_GNU_verneed
    private const uint VersionDefinitions = 0x6ffffffd; // SHT_GNU_verdef
    private const ushort WeakFlag = 0x2; // VER_FLG_WEAK

    /// <summary>Reads the file; null when it is missing, not a little-endian ELF64 file, or malformed. Never throws.</summary>
    public static ElfSymbolVersions? TryRead(string path)
    {
        try
        {
            return Parse(File.ReadAllBytes(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Parses ELF bytes; null when they are not a well-formed little-endian ELF64 image. Never throws.</summary>
    public static ElfSymbolVersions? Parse(ReadOnlySpan<byte> b)
    {
        try
        {
            return ParseUnchecked(b);
        }
        catch (ArgumentOutOfRangeException)
        {
            // Every offset comes from the file; a truncated or corrupt file runs past the end of the span.
            return null;
        }
    }

    private static ElfSymbolVersions? ParseUnchecked(ReadOnlySpan<byte> b)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            return null;
        var sectionTable = Offset(U64(b, 0x28));
        int entrySize = U16(b, 0x3A), sectionCount = U16(b, 0x3C);
        if (entrySize < 64)
            return null;
        var needs = new List<(string, string, bool)>();
        var defines = new List<string>();
        for (var s = 0; s < sectionCount; s++)
        {
            var header = sectionTable + (s * entrySize);
            var type = U32(b, header + 4);
            if (type != VersionNeeds && type != VersionDefinitions)
                continue;
            var start = Offset(U64(b, header + 24));
            var strings = Offset(U64(b, sectionTable + ((int)U32(b, header + 40) * entrySize) + 24));
            var count = U32(b, header + 44);
            var entry = start;
            for (var n = 0u; n < count && n < 10_000; n++)
            {
                if (type == VersionNeeds)
                {
                    // Elf64_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next; each Elf64_Vernaux: hash, flags, other, name, next.
                    var file = Text(b, strings + (int)U32(b, entry + 4));
                    var aux = entry + (int)U32(b, entry + 8);
                    for (var a = 0; a < U16(b, entry + 2); a++)
                    {
                        needs.Add((file, Text(b, strings + (int)U32(b, aux + 8)), (U16(b, aux + 4) & WeakFlag) != 0));
                        aux += (int)U32(b, aux + 12);
                    }
                    entry += (int)U32(b, entry + 12);
                }
                else
                {
                    // Elf64_Verdef: version, flags, ndx, cnt, hash, aux, next; the first Elf64_Verdaux names the version.
                    var aux = entry + (int)U32(b, entry + 12);
                    defines.Add(Text(b, strings + (int)U32(b, aux)));
                    var next = (int)U32(b, entry + 16);
                    if (next == 0)
                        break;
                    entry += next;
                }
            }
        }
        return new ElfSymbolVersions(needs, defines);
    }

    private static int Offset(ulong value) => value <= int.MaxValue ? (int)value : throw new ArgumentOutOfRangeException(nameof(value));

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(at, 2));

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(at, 4));

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(at, 8));

    private static string Text(ReadOnlySpan<byte> b, int at)
    {
        var rest = b[at..];
        var end = rest.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? throw new ArgumentOutOfRangeException(nameof(at)) : rest[..end]);
    }
}
