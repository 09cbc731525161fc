using System.Runtime.InteropServices;

namespace HessianGeometry.Internal;

/// <summary>
/// Reads and sets libtorch's process-global "user enabled" flags for oneDNN (MKL-DNN) and NNPACK, which TorchSharp 0.107
/// does not wrap. They are C++ members of <c>at::Context</c>, exported by <c>libtorch_cpu</c>; a member function takes the
/// context pointer as its first argument, so it can be called like a free function.
/// </summary>
/// <remarks>
/// Resolution never throws and never loads a second copy of libtorch: on Linux it uses the <c>libtorch_cpu.so</c> file
/// already mapped into this process (the one TorchSharp loaded). When anything is missing (another platform's symbol
/// names, a libtorch without these members, TorchSharp not loaded), <see cref="IsAvailable"/> is false and
/// <see cref="UnavailableReason"/> says why; the setters then do nothing.
/// </remarks>
internal static class TorchBackendSettings
{
    private static readonly Lazy<Binding?> Bound = new(Bind, LazyThreadSafetyMode.ExecutionAndPublication);
    private static string? unavailableReason;

    // Itanium C++ ABI names (Linux, macOS): at::globalContext(), at::Context::setUserEnabledMkldnn(bool), ...
    private static readonly SymbolNames Itanium = new(
        "_ZN2at13globalContextEv",
        "_ZNK2at7Context17userEnabledMkldnnEv", "_ZN2at7Context20setUserEnabledMkldnnEb",
        "_ZNK2at7Context17userEnabledNNPACKEv", "_ZN2at7Context20setUserEnabledNNPACKEb");

    // MSVC names (Windows). Untested here; an MSVC name encodes the full signature, so a match cannot be a different function.
    private static readonly SymbolNames Msvc = new(
        "?globalContext@at@@YAAEAVContext@1@XZ",
        "?userEnabledMkldnn@Context@at@@QEBA_NXZ", "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z",
        "?userEnabledNNPACK@Context@at@@QEBA_NXZ", "?setUserEnabledNNPACK@Context@at@@QEAAX_N@Z");

    /// <summary>True when the flags can be read and set in this process.</summary>
    public static bool IsAvailable => Bound.Value is not null;

    /// <summary>Why the flags cannot be controlled here, or null when they can.</summary>
    public static string? UnavailableReason => IsAvailable ? null : unavailableReason;

    /// <summary>The native library the functions were resolved from, or null.</summary>
    public static string? LibraryPath => Bound.Value?.Library;

    /// <summary>libtorch's <c>userEnabledMkldnn()</c>: whether oneDNN may be used (for convolutions, among others).</summary>
    public static bool? OneDnnEnabled => Bound.Value is { } b ? b.GetMkldnn(b.Context) : null;

    /// <summary>libtorch's <c>userEnabledNNPACK()</c>.</summary>
    public static bool? NnpackEnabled => Bound.Value is { } b ? b.GetNnpack(b.Context) : null;

    /// <summary>Sets oneDNN's flag; returns false (and does nothing) when the flags are unavailable.</summary>
    public static bool TrySetOneDnn(bool enabled)
    {
        if (Bound.Value is not { } b)
            return false;
        b.SetMkldnn(b.Context, enabled);
        return true;
    }

    /// <summary>Sets NNPACK's flag; returns false (and does nothing) when the flags are unavailable.</summary>
    public static bool TrySetNnpack(bool enabled)
    {
        if (Bound.Value is not { } b)
            return false;
        b.SetNnpack(b.Context, enabled);
        return true;
    }

    private static Binding? Bind()
    {
        try
        {
            TorchRuntime.EnsureLoaded();
        }
        catch (Exception ex)
        {
            unavailableReason = "TorchSharp's native library is not loaded: " + ex.Message;
            return null;
        }

        var (library, reason) = OpenLoadedLibtorch();
        if (library is null)
        {
            unavailableReason = reason;
            return null;
        }

        var names = OperatingSystem.IsWindows() ? Msvc : Itanium;
        var missing = names.All.Where(n => !NativeLibrary.TryGetExport(library.Value.Handle, n, out _)).ToList();
        if (missing.Count > 0)
        {
            unavailableReason = $"{library.Value.Path} does not export {string.Join(", ", missing)} (a libtorch other than the 2.x builds TorchSharp ships?).";
            return null;
        }

        try
        {
            var globalContext = Marshal.GetDelegateForFunctionPointer<ContextFunction>(NativeLibrary.GetExport(library.Value.Handle, names.GlobalContext));
            var binding = new Binding(
                library.Value.Path,
                globalContext(),
                Marshal.GetDelegateForFunctionPointer<FlagGetter>(NativeLibrary.GetExport(library.Value.Handle, names.GetMkldnn)),
                Marshal.GetDelegateForFunctionPointer<FlagSetter>(NativeLibrary.GetExport(library.Value.Handle, names.SetMkldnn)),
                Marshal.GetDelegateForFunctionPointer<FlagGetter>(NativeLibrary.GetExport(library.Value.Handle, names.GetNnpack)),
                Marshal.GetDelegateForFunctionPointer<FlagSetter>(NativeLibrary.GetExport(library.Value.Handle, names.SetNnpack)));
            if (binding.Context == IntPtr.Zero)
            {
                unavailableReason = "at::globalContext() returned a null pointer.";
                return null;
            }
            return binding;
        }
        catch (Exception ex)
        {
            unavailableReason = "Binding libtorch's backend flags failed: " + ex.Message;
            return null;
        }
    }

    /// <summary>
    /// The libtorch_cpu that TorchSharp already loaded. On Linux the path comes from /proc/self/maps, so dlopen returns the
    /// mapped copy rather than searching LD_LIBRARY_PATH for another one; elsewhere the OS returns an already-loaded
    /// module when asked by its file name.
    /// </summary>
    private static ((IntPtr Handle, string Path)? Library, string? Reason) OpenLoadedLibtorch()
    {
        string name;
        if (OperatingSystem.IsLinux())
        {
            var mapped = LoadedLinuxLibrary("libtorch_cpu.so");
            if (mapped is null)
                return (null, "libtorch_cpu.so is not mapped into this process (/proc/self/maps), so it is not the library TorchSharp uses.");
            name = mapped;
        }
        else if (OperatingSystem.IsMacOS())
        {
            name = "libtorch_cpu.dylib";
        }
        else if (OperatingSystem.IsWindows())
        {
            name = "torch_cpu.dll";
        }
        else
        {
            return (null, $"Unsupported platform {RuntimeInformation.OSDescription}.");
        }
        return NativeLibrary.TryLoad(name, out var handle)
            ? ((handle, name), null)
            : (null, $"Could not open {name}.");
    }

    private static string? LoadedLinuxLibrary(string fileName)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash < 0)
                    continue;
                var path = line[slash..].Trim();
                if (Path.GetFileName(path).Equals(fileName, StringComparison.Ordinal))
                    return path;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr ContextFunction();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool FlagGetter(IntPtr context);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void FlagSetter(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    private sealed record SymbolNames(string GlobalContext, string GetMkldnn, string SetMkldnn, string GetNnpack, string SetNnpack)
    {
        public string[] All => [GlobalContext, GetMkldnn, SetMkldnn, GetNnpack, SetNnpack];
    }

    // The delegates are kept alive here for the process's lifetime; the library is never unloaded (TorchSharp holds it).
    private sealed record Binding(string Library, IntPtr Context, FlagGetter GetMkldnn, FlagSetter SetMkldnn, FlagGetter GetNnpack, FlagSetter SetNnpack);
}
