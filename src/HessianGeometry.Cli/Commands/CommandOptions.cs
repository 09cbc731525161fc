using HessianGeometry.Analysis;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>Parsing of the options the model-analysing commands share (--precision, --device).</summary>
internal static class CommandOptions
{
    public static AnalysisPrecision ParsePrecision(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float64" or "double" => AnalysisPrecision.Float64,
        "float32" or "float" => AnalysisPrecision.Float32,
        _ => throw new ArgumentException($"--precision must be float64 or float32 but was '{name}'."),
    };

    public static Device ParseDevice(string name)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case "cpu":
                return CPU;
            case "cuda":
                if (!cuda.is_available())
                    throw new ArgumentException("--device cuda was requested but TorchSharp sees no CUDA device. Install a CUDA backend (TorchSharp-cuda-*) or use --device cpu.");
                return CUDA;
            default:
                throw new ArgumentException($"--device must be cpu or cuda but was '{name}'.");
        }
    }
}
