using System.Globalization;

namespace HessianGeometry.Internal;

/// <summary>
/// Turns TorchSharp's load failure (on Linux often a misleading "doesn't contain a reference to libtorch-cpu-linux-x64")
/// into a message naming the real cause: a missing backend package, a missing libtorch, or a C++ runtime version the
/// host's libstdc++ lacks (with what to do about each).
/// </summary>
internal static class TorchLoadDiagnosis
{
    private const string ReadmeSection = "See README, 'Linux hosts' and 'Referencing the project'.";

    /// <summary>The exception to throw for <paramref name="inner"/>, given where the native files are on this host.</summary>
    public static TorchSharpLoadException Explain(Exception inner, TorchNativeFiles files, bool isLinux)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(files);
        // TorchSharp fails in its type initializer: the message worth quoting is the innermost one.
        var original = " TorchSharp said: " + inner.GetBaseException().Message;
        if (!isLinux)
            return new TorchSharpLoadException(NoBackendAdvice("TorchSharp could not load its native library.") + original, inner);

        var searched = " Searched: " + string.Join(", ", files.SearchedDirectories) + ".";
        if (files.LibTorchSharp is null)
            return new TorchSharpLoadException(NoBackendAdvice("libLibTorchSharp.so was not found next to the application.") + searched + original, inner);
        if (files.LibTorchCpu is null)
        {
            return new TorchSharpLoadException(
                $"libtorch_cpu.so was not found next to {files.LibTorchSharp}: the libtorch package is missing or was not copied. " +
                "Reference TorchSharp-cpu (which brings libtorch-cpu-linux-x64) in your application, or libtorch-cpu-linux-x64 directly." +
                searched + original, inner);
        }

        var missing = MissingCxxVersions(files.LibTorchSharp, files.HostLibStdCxx)
            .Concat(MissingCxxVersions(files.LibTorchCpu, files.HostLibStdCxx)).ToList();
        if (missing.Count > 0)
        {
            var (file, version) = missing[0];
            var hostHas = HighestGlibcxx(files.HostLibStdCxx);
            if (file != files.LibTorchSharp)
            {
                // The build targets patch only libLibTorchSharp.so, whose single 3.4.32 symbol is a harmless anchor.
                return new TorchSharpLoadException(
                    $"{file} requires {version} from libstdc++, which this host's {files.HostLibStdCxx} does not provide" +
                    $"{(hostHas is null ? "" : $" (it stops at {hostHas})")}. This libtorch was built for a newer Linux: install a " +
                    "libstdc++ that provides it, or use the libtorch version TorchSharp's backend package ships." + original, inner);
            }
            return new TorchSharpLoadException(
                $"{file} requires {version} from libstdc++, which this host's {files.HostLibStdCxx} does not provide" +
                $"{(hostHas is null ? " (Debian 12 and Ubuntu 22.04 stop at GLIBCXX_3.4.30)" : $" (it stops at {hostHas})")}. " +
                "HessianGeometry's build targets mark that requirement weak in the output copy of libLibTorchSharp.so, and they did " +
                "not run on this copy. With a PackageReference to HessianGeometry: rebuild, and do not set " +
                "HessianGeometrySkipTorchSharpPatch. With a ProjectReference (which does not import a package's buildTransitive " +
                "targets): add <Import Project=\"PATH/TO/src/HessianGeometry/buildTransitive/HessianGeometry.targets\" /> to the " +
                "application's project file and rebuild. Or install a libstdc++ from GCC 13 or later. " + ReadmeSection + original, inner);
        }

        return new TorchSharpLoadException(
            $"TorchSharp could not load {files.LibTorchSharp}, although it and {files.LibTorchCpu} are present and their libstdc++ " +
            $"versions are satisfied{(files.HostLibStdCxx is null ? " (no system libstdc++.so.6 was found to check)" : "")}. " +
            $"Run `ldd {files.LibTorchSharp}` to see which dependency fails to load." + original, inner);
    }

    /// <summary>Non-weak GLIBCXX_/CXXABI_ versions <paramref name="library"/> needs from libstdc++ that the host does not define.</summary>
    public static IEnumerable<(string File, string Version)> MissingCxxVersions(string library, string? hostLibStdCxx)
    {
        if (hostLibStdCxx is null || ElfSymbolVersions.TryRead(library) is not { } needs || ElfSymbolVersions.TryRead(hostLibStdCxx) is not { } host)
            yield break;
        var defined = host.Defines.ToHashSet(StringComparer.Ordinal);
        foreach (var (from, version, weak) in needs.Needs)
        {
            if (!weak && from.StartsWith("libstdc++", StringComparison.Ordinal) && !defined.Contains(version))
                yield return (library, version);
        }
    }

    private static string? HighestGlibcxx(string? hostLibStdCxx) =>
        hostLibStdCxx is null ? null
        : ElfSymbolVersions.TryRead(hostLibStdCxx)?.Defines
            .Where(v => v.StartsWith("GLIBCXX_", StringComparison.Ordinal))
            .Select(v => (Name: v, Key: v["GLIBCXX_".Length..].Split('.').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).ToArray()))
            .OrderByDescending(v => v.Key, Comparer<int[]>.Create(CompareVersions))
            .Select(v => v.Name)
            .FirstOrDefault();

    private static int CompareVersions(int[] a, int[] b)
    {
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var c = (i < a.Length ? a[i] : 0).CompareTo(i < b.Length ? b[i] : 0);
            if (c != 0)
                return c;
        }
        return 0;
    }

    private static string NoBackendAdvice(string what) =>
        what + " Reference a backend package in your application (TorchSharp-cpu, TorchSharp-cuda-linux or " +
        "TorchSharp-cuda-windows, or libtorch-cpu-linux-x64 etc. next to TorchSharp); HessianGeometry itself references TorchSharp only.";
}
