using System.Runtime.InteropServices;
using TorchSharp;

namespace HessianGeometry.Internal;

/// <summary>
/// Turns TorchSharp's misleading load failure on older Linux hosts into one exception that names the real cause.
/// </summary>
internal static class TorchRuntime
{
    private const string RequiredGlibcxx = "GLIBCXX_3.4.32";
    private static readonly Lazy<TorchSharpLoadException?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
            throw failure;
    }

    private static TorchSharpLoadException? TryLoad()
    {
        try
        {
            using var probe = torch.zeros(1);
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Explain(ex);
        }
    }

    private static TorchSharpLoadException Explain(Exception inner)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && HostLacksGlibcxx())
        {
            return new TorchSharpLoadException(
                $"TorchSharp could not load its native library: libLibTorchSharp.so requires {RequiredGlibcxx}, which this host's libstdc++ does not provide " +
                "(Debian 12 and Ubuntu 22.04 stop at GLIBCXX_3.4.30). Fix: build the executable project that references HessianGeometry with the " +
                "HessianGeometry package's build targets enabled (they mark that version requirement weak in the output copy of libLibTorchSharp.so; " +
                "do not set HessianGeometrySkipTorchSharpPatch), or install a libstdc++ from GCC 13 or later. See README, 'Linux hosts'.",
                inner);
        }
        return new TorchSharpLoadException(
            "TorchSharp could not load its native library. Reference a backend package in your application (TorchSharp-cpu, " +
            "TorchSharp-cuda-linux or TorchSharp-cuda-windows, or libtorch-cpu-linux-x64); HessianGeometry itself references TorchSharp only. " +
            "Inner exception: " + inner.Message, inner);
    }

    private static bool HostLacksGlibcxx()
    {
        string[] candidates =
        [
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6",
        ];
        var path = candidates.FirstOrDefault(File.Exists);
        if (path is null)
            return false;
        var needle = System.Text.Encoding.ASCII.GetBytes(RequiredGlibcxx);
        return File.ReadAllBytes(path).AsSpan().IndexOf(needle) < 0;
    }
}
