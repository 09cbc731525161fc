using System.Globalization;
using HessianGeometry.Internal;

namespace HessianGeometry;

/// <summary>
/// While open, convolutions in this process avoid libtorch's oneDNN (MKL-DNN) and NNPACK paths; disposing the outermost
/// scope restores the settings that were in force when it was entered.
/// <code>using var backends = ConvolutionBackendScope.Enter();</code>
/// </summary>
/// <remarks>
/// <para>Why: on some x86-64 CPUs (seen on AMD EPYC with AVX-512) libtorch 2.10's oneDNN convolution gives intermittent
/// NaN/Inf gradients in residual networks, and NNPACK logs "Could not initialize NNPACK! Reason: Unsupported hardware." to
/// stderr for every convolution. With both off libtorch uses its own (slower on some shapes) convolution kernels, which
/// were clean in every pass measured; see docs/convolutions.md for the cost.</para>
/// <para>The flags are process-global libtorch settings, not per thread: while any scope is open, every thread's
/// convolutions (including the caller's own work on other threads) use the fallback kernels. Scopes nest and may be
/// entered and disposed on different threads: a counter makes only the outermost Enter save and switch the flags and only
/// the last Dispose restore them. A change the caller makes to the flags while a scope is open is overwritten on restore.</para>
/// <para><see cref="HessianGeometryRuntime.UseOneDnn"/> and <see cref="HessianGeometryRuntime.UseNnpack"/> leave the
/// corresponding flag untouched. Where the flags cannot be reached (see <see cref="Describe"/>), a scope does nothing.</para>
/// </remarks>
public sealed class ConvolutionBackendScope : IDisposable
{
    private static readonly Lock Gate = new();
    private static int depth;
    private static bool? savedOneDnn;
    private static bool? savedNnpack;

    private int disposed;

    private ConvolutionBackendScope()
    {
    }

    /// <summary>How many scopes are open in this process (0 when none).</summary>
    public static int Depth
    {
        get
        {
            lock (Gate)
                return depth;
        }
    }

    /// <summary>
    /// Switches oneDNN and NNPACK off for the process (unless <see cref="HessianGeometryRuntime.UseOneDnn"/> /
    /// <see cref="HessianGeometryRuntime.UseNnpack"/> say otherwise) until the returned scope, and every other open scope,
    /// is disposed.
    /// </summary>
    /// <returns>The scope; dispose it exactly once (further calls to Dispose do nothing).</returns>
    /// <exception cref="TorchSharpLoadException">TorchSharp's native library cannot be loaded.</exception>
    public static ConvolutionBackendScope Enter()
    {
        // The analysis needs libtorch anyway: fail here with the clear load message rather than later with TorchSharp's.
        TorchRuntime.EnsureLoaded();
        lock (Gate)
        {
            if (depth == 0 && TorchBackendSettings.IsAvailable)
            {
                savedOneDnn = TorchBackendSettings.OneDnnEnabled;
                savedNnpack = TorchBackendSettings.NnpackEnabled;
                if (!HessianGeometryRuntime.UseOneDnn)
                    TorchBackendSettings.TrySetOneDnn(false);
                if (!HessianGeometryRuntime.UseNnpack)
                    TorchBackendSettings.TrySetNnpack(false);
            }
            depth++;
        }
        return new ConvolutionBackendScope();
    }

    /// <summary>
    /// One line for logs and reports: whether the flags can be controlled here (and if not, why), their current values,
    /// the open scope depth and the user's opt-outs. Never throws.
    /// </summary>
    public static string Describe()
    {
        try
        {
            if (!TorchBackendSettings.IsAvailable)
                return "convolution backends: not controllable (" + TorchBackendSettings.UnavailableReason + "); libtorch defaults in use";
            lock (Gate)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"convolution backends: oneDNN {OnOff(TorchBackendSettings.OneDnnEnabled)}, NNPACK {OnOff(TorchBackendSettings.NnpackEnabled)}" +
                    $" (scope depth {depth}; UseOneDnn={HessianGeometryRuntime.UseOneDnn}, UseNnpack={HessianGeometryRuntime.UseNnpack}; {TorchBackendSettings.LibraryPath})");
            }
        }
        catch (Exception ex)
        {
            return "convolution backends: unknown (" + ex.Message + ")";
        }
    }

    /// <summary>Closes this scope; the last open scope restores the flags saved by the outermost <see cref="Enter"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        lock (Gate)
        {
            depth--;
            if (depth > 0)
                return;
            depth = 0;
            if (savedOneDnn is { } oneDnn)
                TorchBackendSettings.TrySetOneDnn(oneDnn);
            if (savedNnpack is { } nnpack)
                TorchBackendSettings.TrySetNnpack(nnpack);
            savedOneDnn = null;
            savedNnpack = null;
        }
    }

    private static string OnOff(bool? flag) => flag switch { true => "on", false => "off", null => "unknown" };
}
