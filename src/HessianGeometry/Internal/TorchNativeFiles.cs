using System.Runtime.InteropServices;

namespace HessianGeometry.Internal;

/// <summary>
/// Where the native files TorchSharp loads were found on this host (null: not found), and where they were looked for.
/// Separate from the diagnosis so tests can describe a broken host with fake paths.
/// </summary>
/// <param name="LibTorchSharp">The <c>libLibTorchSharp.so</c> TorchSharp would load.</param>
/// <param name="LibTorchCpu">The <c>libtorch_cpu.so</c> next to it or on the probing path.</param>
/// <param name="HostLibStdCxx">The system <c>libstdc++.so.6</c>.</param>
/// <param name="SearchedDirectories">The folders searched, for the message.</param>
internal sealed record TorchNativeFiles(string? LibTorchSharp, string? LibTorchCpu, string? HostLibStdCxx, IReadOnlyList<string> SearchedDirectories)
{
    private static readonly string[] HostLibStdCxxCandidates =
    [
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    ];

    /// <summary>
    /// Looks where the .NET host and TorchSharp look: the application folder, its <c>runtimes/RID/native</c>, the
    /// folders the host was given from deps.json (NATIVE_DLL_SEARCH_DIRECTORIES), and the TorchSharp assembly's folder.
    /// </summary>
    public static TorchNativeFiles FindOnThisHost()
    {
        var directories = new List<string>();
        void Add(string? directory)
        {
            if (!string.IsNullOrWhiteSpace(directory) && !directories.Contains(directory, StringComparer.Ordinal))
                directories.Add(directory);
        }
        var rid = RuntimeInformation.RuntimeIdentifier;
        var ridPortable = (OperatingSystem.IsLinux() ? "linux-" : OperatingSystem.IsMacOS() ? "osx-" : "win-") +
                          RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        foreach (var root in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location) })
        {
            Add(root);
            if (root is not null)
            {
                Add(Path.Combine(root, "runtimes", rid, "native"));
                Add(Path.Combine(root, "runtimes", ridPortable, "native"));
            }
        }
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string probing)
        {
            foreach (var directory in probing.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                Add(directory.TrimEnd(Path.DirectorySeparatorChar));
        }
        string? Find(string file) => directories.Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);
        return new TorchNativeFiles(Find("libLibTorchSharp.so"), Find("libtorch_cpu.so"), HostLibStdCxxCandidates.FirstOrDefault(File.Exists), directories);
    }
}
