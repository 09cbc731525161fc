using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace HessianGeometry.Internal;

/// <summary>
/// Lets the oneMKL that libtorch (Linux x64) links statically use its optimised code paths on AMD processors.
/// MKL picks its kernels once per process from <c>mkl_serv_cpu_detect</c>, which asks <c>mkl_serv_intel_cpu_true</c>
/// first and falls back to generic kernels on any other vendor, even when the CPU has every instruction the fast
/// kernels need. The dense symmetric eigen-decomposition (<c>torch.linalg.eigh</c> → MKL <c>dsyevd</c>) then runs at
/// about 60 % of OpenBLAS's speed (docs/benchmarks.md, "Issue #17"). libtorch calls that function through its own
/// procedure linkage table, whose slot lies in the writable <c>.got.plt</c>; pointing the slot at a function that answers
/// "yes" before MKL's first call is exactly what the widespread <c>LD_PRELOAD</c> workaround does, without needing the
/// variable set before the process starts. MKL still checks the CPU's feature flags, so it only chooses kernels whose
/// instructions the CPU has. Results stay within rounding of the generic path's (the decompositions are validated by
/// their residuals). Because the change is process-wide and one-way (every later MKL call of the process, also the
/// application's own training, takes the new kernels), the library applies it only when asked:
/// <see cref="HessianGeometryRuntime.UseOptimisedMklKernels"/>, or <c>HESSIANGEOMETRY_MKL_VENDOR_CHECK=bypass</c> at load.
/// The CLI and the benchmarks ask for it; <c>HESSIANGEOMETRY_MKL_VENDOR_CHECK=keep</c> refuses it everywhere.
/// </summary>
internal static class MklCodePath
{
    /// <summary>The environment variable that switches this on at load (value <c>bypass</c>) or off everywhere (value <c>keep</c>).</summary>
    public const string OptOutVariable = "HESSIANGEOMETRY_MKL_VENDOR_CHECK";

    private const string Library = "libtorch_cpu.so";
    private const string VendorFunction = "mkl_serv_intel_cpu_true";
    private const uint JumpSlot = 7; // R_X86_64_JUMP_SLOT

    // Kept alive for the life of the process: MKL may call through the slot at any time.
    private static readonly IntelCpuTrueFunction Answer = () => 1;
    private static readonly object Gate = new();
    private static bool applied;
    private static string status = "unchanged (not requested: HessianGeometryRuntime.UseOptimisedMklKernels() or " + OptOutVariable + "=bypass)";

    /// <summary>True when the environment asks for the bypass at load (<c>HESSIANGEOMETRY_MKL_VENDOR_CHECK=bypass</c>).</summary>
    public static bool RequestedByEnvironment =>
        string.Equals(Environment.GetEnvironmentVariable(OptOutVariable), "bypass", StringComparison.OrdinalIgnoreCase);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int IntelCpuTrueFunction();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int CpuDetectFunction();

    /// <summary>What happened, for reports: e.g. "vendor check bypassed (AMD), MKL CPU code 7" or why nothing was done.</summary>
    public static string Status => status;

    /// <summary>Applies the change once per process, after libtorch has loaded and before anything runs MKL. Never throws.</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (applied)
                return;
            applied = true;
            try
            {
                status = TryApply();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                status = "unchanged (" + ex.GetType().Name + ": " + ex.Message + ")";
            }
        }
    }

    private static string TryApply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || !X86Base.IsSupported)
            return "not applicable (only Linux x64 libtorch links MKL this way)";
        if (string.Equals(Environment.GetEnvironmentVariable(OptOutVariable), "keep", StringComparison.OrdinalIgnoreCase))
            return $"unchanged ({OptOutVariable}=keep)";
        if (Vendor() != "AuthenticAMD")
            return "unchanged (" + Vendor() + ": MKL chooses its own path)";
        var mapping = LoadedMapping(Library);
        if (mapping is null)
            return "unchanged (" + Library + " is not loaded)";
        if (!NativeLibrary.TryLoad(mapping.Value.Path, out var handle)
            || !NativeLibrary.TryGetExport(handle, VendorFunction, out var vendorFunction)
            || !NativeLibrary.TryGetExport(handle, "mkl_serv_cpu_detect", out var detect))
            return "unchanged (this libtorch does not carry MKL)";
        var slotOffset = JumpSlotOffset(mapping.Value.Path, VendorFunction);
        if (slotOffset is null)
            return "unchanged (no linkage slot for " + VendorFunction + ")";
        var slot = mapping.Value.Base + (nint)slotOffset.Value;
        if (!mapping.Value.IsWritable(slot))
            return "unchanged (the linkage slot is read-only)";
        var current = Marshal.ReadIntPtr(slot);
        if (current != vendorFunction && !mapping.Value.Contains(current))
            return "unchanged (the linkage slot holds an unexpected address)";
        Marshal.WriteIntPtr(slot, Marshal.GetFunctionPointerForDelegate(Answer));
        var code = Marshal.GetDelegateForFunctionPointer<CpuDetectFunction>(detect)();
        return code == 0
            ? "unchanged (MKL had chosen its kernels before HessianGeometry loaded; MKL CPU code 0)"
            : "vendor check bypassed (AMD), MKL CPU code " + code.ToString(CultureInfo.InvariantCulture);
    }

    private static string Vendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> name = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(name, ebx);
        BinaryPrimitives.WriteInt32LittleEndian(name[4..], edx);
        BinaryPrimitives.WriteInt32LittleEndian(name[8..], ecx);
        return Encoding.ASCII.GetString(name);
    }

    /// <summary>The library's file, load base and mappings, from /proc/self/maps.</summary>
    private static LoadedLibrary? LoadedMapping(string fileName)
    {
        var ranges = new List<(nint Start, nint End, bool Writable)>();
        string? path = null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || !fields[5].EndsWith("/" + fileName, StringComparison.Ordinal))
                continue;
            path ??= fields[5];
            if (fields[5] != path)
                continue;
            var bounds = fields[0].Split('-');
            ranges.Add(((nint)long.Parse(bounds[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                (nint)long.Parse(bounds[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture), fields[1].StartsWith("rw", StringComparison.Ordinal)));
        }
        return path is null ? null : new LoadedLibrary(path, ranges.Min(r => r.Start), ranges);
    }

    /// <summary>r_offset of the jump-slot relocation of <paramref name="symbol"/> in a little-endian ELF64 file, or null.</summary>
    internal static ulong? JumpSlotOffset(string path, string symbol)
    {
        using var file = File.OpenRead(path);
        var header = Read(file, 0, 64);
        if (header.Length < 64 || header[0] != 0x7f || header[1] != (byte)'E' || header[4] != 2 || header[5] != 1)
            return null;
        var sectionTable = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x28));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3A)), count = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3C));
        var sections = Read(file, sectionTable, entrySize * count);
        Section At(int i) => new(
            BinaryPrimitives.ReadUInt32LittleEndian(sections.AsSpan((i * entrySize) + 4)),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(sections.AsSpan((i * entrySize) + 0x18)),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(sections.AsSpan((i * entrySize) + 0x20)),
            (int)BinaryPrimitives.ReadUInt32LittleEndian(sections.AsSpan((i * entrySize) + 0x28)));
        var wanted = Encoding.ASCII.GetBytes(symbol + "\0");
        for (var s = 0; s < count; s++)
        {
            var rela = At(s);
            if (rela.Type != 4 || rela.Link <= 0 || rela.Link >= count) // SHT_RELA with a symbol table
                continue;
            var symbols = At(rela.Link);
            if (symbols.Link <= 0 || symbols.Link >= count)
                continue;
            var relocations = Read(file, rela.Offset, (int)rela.Size);
            var symbolTable = Read(file, symbols.Offset, (int)symbols.Size);
            var strings = Read(file, At(symbols.Link).Offset, (int)At(symbols.Link).Size);
            for (var r = 0; r + 24 <= relocations.Length; r += 24)
            {
                var info = BinaryPrimitives.ReadUInt64LittleEndian(relocations.AsSpan(r + 8));
                var entry = (long)(info >> 32) * 24;
                if ((info & 0xffffffff) != JumpSlot || entry + 4 > symbolTable.Length)
                    continue;
                var name = (int)BinaryPrimitives.ReadUInt32LittleEndian(symbolTable.AsSpan((int)entry));
                if (name >= 0 && name + wanted.Length <= strings.Length && strings.AsSpan(name, wanted.Length).SequenceEqual(wanted))
                    return BinaryPrimitives.ReadUInt64LittleEndian(relocations.AsSpan(r));
            }
        }
        return null;
    }

    private static byte[] Read(FileStream file, long offset, int length)
    {
        var buffer = new byte[length];
        file.Seek(offset, SeekOrigin.Begin);
        file.ReadExactly(buffer);
        return buffer;
    }

    private readonly record struct Section(uint Type, long Offset, long Size, int Link);

    private readonly record struct LoadedLibrary(string Path, nint Base, List<(nint Start, nint End, bool Writable)> Ranges)
    {
        public bool Contains(nint address) => Ranges.Any(r => address >= r.Start && address < r.End);

        public bool IsWritable(nint address) => Ranges.Any(r => r.Writable && address >= r.Start && address + IntPtr.Size <= r.End);
    }
}
