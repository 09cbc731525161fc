namespace HessianGeometry.Internal;

/// <summary>
/// Loads TorchSharp's native library once per process and turns a failure into one <see cref="TorchSharpLoadException"/>
/// that names the real cause (<see cref="TorchLoadDiagnosis"/>). Public entry: <see cref="HessianGeometryRuntime.EnsureLoaded"/>.
/// </summary>
internal static class TorchRuntime
{
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
            using var probe = TorchSharp.torch.zeros(1);
            if (MklCodePath.RequestedByEnvironment)
                MklCodePath.Apply(); // before anything runs MKL: it chooses its kernels once per process
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            try
            {
                return TorchLoadDiagnosis.Explain(ex, TorchNativeFiles.FindOnThisHost(), OperatingSystem.IsLinux());
            }
            catch (Exception diagnosisFailure) when (diagnosisFailure is not OutOfMemoryException)
            {
                // The diagnosis reads files; if that fails too, TorchSharp's own message is still better than none.
                return new TorchSharpLoadException("TorchSharp could not load its native library: " + ex.Message, ex);
            }
        }
    }
}
