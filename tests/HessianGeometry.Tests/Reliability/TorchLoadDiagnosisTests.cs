using HessianGeometry.Internal;
using Xunit;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// The load diagnosis names the real cause for each way a host can be broken, described to it with fake or copied files
/// (a real load failure cannot be staged inside a process where TorchSharp already loaded).
/// </summary>
public sealed class TorchLoadDiagnosisTests : IDisposable
{
    private const string GlibcxxNeededByTorchSharp = "GLIBCXX_3.4.32";
    private static readonly Exception TorchSharpSays = new NotSupportedException("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64.");
    private readonly string folder = Directory.CreateTempSubdirectory("hg-load-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void EnsureLoaded_OnThisHost_DoesNotThrow() => HessianGeometryRuntime.EnsureLoaded();

    [Fact]
    public void NoLibTorchSharp_SaysToReferenceABackendPackage_AndKeepsTorchSharpsMessage()
    {
        var error = TorchLoadDiagnosis.Explain(TorchSharpSays, new TorchNativeFiles(null, null, null, [folder]), isLinux: true);
        Assert.Contains("libLibTorchSharp.so was not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("TorchSharp-cpu", error.Message, StringComparison.Ordinal);
        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.Contains(TorchSharpSays.Message, error.Message, StringComparison.Ordinal);
        Assert.Same(TorchSharpSays, error.InnerException);
    }

    [Fact]
    public void NoLibtorchCpu_NamesTheLibtorchPackage()
    {
        var fake = Write("libLibTorchSharp.so", [1, 2, 3]);
        var error = TorchLoadDiagnosis.Explain(TorchSharpSays, new TorchNativeFiles(fake, null, null, [folder]), isLinux: true);
        Assert.Contains("libtorch_cpu.so was not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("libtorch-cpu-linux-x64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotElfFiles_GiveTheLddAdvice_NotACrash()
    {
        var fake = Write("libLibTorchSharp.so", "not an ELF file"u8.ToArray());
        var torch = Write("libtorch_cpu.so", [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1]);
        var error = TorchLoadDiagnosis.Explain(TorchSharpSays, new TorchNativeFiles(fake, torch, fake, [folder]), isLinux: true);
        Assert.Contains("ldd " + fake, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherPlatforms_GetTheBackendAdvice()
    {
        var error = TorchLoadDiagnosis.Explain(TorchSharpSays, new TorchNativeFiles(null, null, null, []), isLinux: false);
        Assert.Contains("TorchSharp-cuda-windows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnpatchedTorchSharpLibrary_OnAnOldLibStdCxx_NamesTheVersionAndTheProjectReferenceImport()
    {
        var (unpatched, host) = (PackageLibTorchSharp(), HostLibStdCxx());
        if (unpatched is null || host is null || ElfSymbolVersions.TryRead(host)!.Defines.Contains(GlibcxxNeededByTorchSharp))
            return; // needs the NuGet cache's unpatched copy and a host like Debian 12 that lacks the version
        var copy = Path.Combine(folder, "libLibTorchSharp.so");
        File.Copy(unpatched, copy);
        var torch = Write("libtorch_cpu.so", [1]);
        var error = TorchLoadDiagnosis.Explain(TorchSharpSays, new TorchNativeFiles(copy, torch, host, [folder]), isLinux: true);
        Assert.Contains($"{copy} requires {GlibcxxNeededByTorchSharp} from libstdc++", error.Message, StringComparison.Ordinal);
        Assert.Contains("it stops at GLIBCXX_3.4.", error.Message, StringComparison.Ordinal);
        Assert.Contains("buildTransitive/HessianGeometry.targets", error.Message, StringComparison.Ordinal);
        Assert.Contains("HessianGeometrySkipTorchSharpPatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureLoaded_InAnAppFolderWithTheUnpatchedLibrary_ThrowsTheNamedCause()
    {
        // The real failure, staged: this test assembly's output folder in a temporary folder, with the NuGet cache's
        // unpatched libLibTorchSharp.so in place of the patched copy. Only meaningful on a host that lacks the version
        // (Debian 12, Ubuntu 22.04). The managed files are copied, because the runtime probes next to an assembly's real
        // path and would find the patched library through a link; the large native files under runtimes/ are linked.
        var (unpatched, host) = (PackageLibTorchSharp(), HostLibStdCxx());
        if (!OperatingSystem.IsLinux() || unpatched is null || host is null || ElfSymbolVersions.TryRead(host)!.Defines.Contains(GlibcxxNeededByTorchSharp))
            return;
        var output = Path.GetDirectoryName(typeof(TorchLoadDiagnosisTests).Assembly.Location)!;
        var staged = Path.Combine(folder, "app");
        foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(staged, Path.GetRelativePath(output, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Path.GetFileName(file) == "libLibTorchSharp.so")
                File.Copy(unpatched, target);
            else if (Path.GetDirectoryName(file) == output)
                File.Copy(file, target);
            else
                File.CreateSymbolicLink(target, file);
        }
        var result = ChildProcess.RunAssembly(Path.Combine(staged, Path.GetFileName(typeof(TorchLoadDiagnosisTests).Assembly.Location)),
            TimeSpan.FromMinutes(2), new Dictionary<string, string> { [SingleThreadedTorch.SkipVariable] = "1" }, "ensure-loaded").Single();
        Assert.Equal(typeof(TorchSharpLoadException).FullName, result.GetProperty("type").GetString());
        var message = result.GetProperty("message").GetString()!;
        Assert.Contains($"requires {GlibcxxNeededByTorchSharp} from libstdc++", message, StringComparison.Ordinal);
        Assert.Contains(staged, message, StringComparison.Ordinal);
        Assert.Contains("buildTransitive/HessianGeometry.targets", message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnmetVersionInLibtorchItself_DoesNotBlameThePatch()
    {
        // The unpatched TorchSharp library stands in for a libtorch_cpu.so built against a newer libstdc++.
        var (unpatched, host) = (PackageLibTorchSharp(), HostLibStdCxx());
        if (unpatched is null || host is null || ElfSymbolVersions.TryRead(host)!.Defines.Contains(GlibcxxNeededByTorchSharp))
            return;
        var patchedOrFake = Write("libLibTorchSharp.so", [1]);
        var error = TorchLoadDiagnosis.Explain(TorchSharpSays, new TorchNativeFiles(patchedOrFake, unpatched, host, [folder]), isLinux: true);
        Assert.Contains($"{unpatched} requires {GlibcxxNeededByTorchSharp}", error.Message, StringComparison.Ordinal);
        Assert.Contains("built for a newer Linux", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("buildTransitive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheOutputCopyOfLibTorchSharp_HasNoUnmetStrongLibStdCxxVersion()
    {
        // This test assembly is built with the repository's targets, so the copy it loaded must be loadable (patched or not needed).
        var files = TorchNativeFiles.FindOnThisHost();
        if (!OperatingSystem.IsLinux())
            return;
        Assert.NotNull(files.LibTorchSharp);
        Assert.NotNull(files.LibTorchCpu);
        Assert.Empty(TorchLoadDiagnosis.MissingCxxVersions(files.LibTorchSharp!, files.HostLibStdCxx));
        Assert.Empty(TorchLoadDiagnosis.MissingCxxVersions(files.LibTorchCpu!, files.HostLibStdCxx));
        var needs = ElfSymbolVersions.TryRead(files.LibTorchSharp!)!.Needs;
        Assert.Contains(needs, n => n.Library.StartsWith("libstdc++", StringComparison.Ordinal));
    }

    [Fact]
    public void HostLibStdCxx_DefinesTheOldGlibcxxVersions()
    {
        if (HostLibStdCxx() is not { } host)
            return;
        var defines = ElfSymbolVersions.TryRead(host)!.Defines;
        Assert.Contains("GLIBCXX_3.4", defines);
        Assert.Contains("GLIBCXX_3.4.21", defines);
    }

    [Fact]
    public void ElfReader_OnTruncatedOrMissingFiles_ReturnsNull()
    {
        Assert.Null(ElfSymbolVersions.TryRead(Path.Combine(folder, "missing.so")));
        Assert.Null(ElfSymbolVersions.Parse([]));
        if (HostLibStdCxx() is { } host)
        {
            var bytes = File.ReadAllBytes(host);
            foreach (var length in new[] { 64, 200, 4096, bytes.Length / 2 })
                Assert.Null(ElfSymbolVersions.Parse(bytes.AsSpan(0, length)));
        }
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string? HostLibStdCxx() => TorchNativeFiles.FindOnThisHost().HostLibStdCxx;

    /// <summary>The NuGet cache's libLibTorchSharp.so, which the build targets never modify.</summary>
    private static string? PackageLibTorchSharp()
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var version = typeof(TorchSharp.torch).Assembly.GetName().Version;
        var path = Path.Combine(cache, "torchsharp", $"{version!.Major}.{version.Minor}.{version.Build}", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }
}
