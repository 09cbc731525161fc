using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using HessianGeometry.Internal;
using Xunit;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// MklCodePath: on an AMD Linux x64 host libtorch's MKL is switched to its optimised kernels before its first call when
/// the process asks (HessianGeometryRuntime.UseOptimisedMklKernels), never when it does not, the opt-out refuses it, and both give the same decomposition (the bypass changes speed, not results). Each case runs
/// in a child process, because MKL chooses its kernels once per process.
/// </summary>
public sealed class MklCodePathTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private static bool IsAmdLinuxX64 => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
        && X86Base.IsSupported && X86Base.CpuId(0, 0).Ebx == 0x68747541; // "Auth"(enticAMD)

    [Fact]
    public void BypassedAndDefaultKernels_GiveTheSameEigenvalues_AndTheStatusSaysWhichRan()
    {
        var bypassed = ChildProcess.Run(Timeout, "mkl-eigh", "optimised").Single();
        var notAsked = ChildProcess.Run(Timeout, "mkl-eigh").Single();
        var kept = ChildProcess.Run(Timeout, new Dictionary<string, string> { [MklCodePath.OptOutVariable] = "keep" }, "mkl-eigh", "optimised").Single();

        var bypassedStatus = bypassed.GetProperty("status").GetString()!;
        if (IsAmdLinuxX64)
            Assert.StartsWith("vendor check bypassed (AMD), MKL CPU code ", bypassedStatus, StringComparison.Ordinal);
        else
            Assert.DoesNotContain("bypassed", bypassedStatus, StringComparison.Ordinal);
        // Opt-in: a process that never asks keeps MKL's own choice, whatever the CPU.
        Assert.StartsWith("unchanged (not requested", notAsked.GetProperty("status").GetString()!, StringComparison.Ordinal);
        Assert.StartsWith(IsAmdLinuxX64 ? $"unchanged ({MklCodePath.OptOutVariable}=keep)" : "", kept.GetProperty("status").GetString()!, StringComparison.Ordinal);
        Assert.Contains("linalg.eigh", bypassed.GetProperty("route").GetString(), StringComparison.Ordinal);

        var a = bypassed.GetProperty("eigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var b = notAsked.GetProperty("eigenvalues").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(400, a.Length);
        var scale = a.Max(Math.Abs);
        var difference = a.Zip(b, (u, v) => Math.Abs(u - v)).Max();
        Assert.True(difference <= 1e-12 * scale, $"eigenvalues differ by {difference:E2} (scale {scale:E2}) between the MKL kernel paths");
        Assert.True(bypassed.GetProperty("residual").GetDouble() <= 1e-12 * scale, "residual of the bypassed path");
        Assert.True(notAsked.GetProperty("residual").GetDouble() <= 1e-12 * scale, "residual of MKL's default path");
    }

    [Fact]
    public void JumpSlotOffset_FindsMklsVendorCheckInLibtorch_AndNothingForUnknownSymbolsOrNonElfFiles()
    {
        if (!OperatingSystem.IsLinux())
            return; // libtorch_cpu.so and /proc/self/maps exist only on Linux
        HessianGeometryRuntime.EnsureLoaded();
        var library = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 6 && f[5].EndsWith("/libtorch_cpu.so", StringComparison.Ordinal)).Select(f => f[5]).FirstOrDefault();
        Assert.NotNull(library);
        Assert.NotNull(MklCodePath.JumpSlotOffset(library!, "mkl_serv_intel_cpu_true"));
        Assert.Null(MklCodePath.JumpSlotOffset(library!, "no_such_symbol_anywhere"));
        var notElf = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(notElf, new byte[128]);
            Assert.Null(MklCodePath.JumpSlotOffset(notElf, "mkl_serv_intel_cpu_true"));
        }
        finally
        {
            File.Delete(notElf);
        }
    }
}
