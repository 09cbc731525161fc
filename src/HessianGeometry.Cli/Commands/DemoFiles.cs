using HessianGeometry.Cli.Datasets;
using HessianGeometry.Interop;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// The demo's trained weights and data as safetensors (model.safetensors with PyTorch nn.Sequential names,
/// data.safetensors with x_train / y_train), so analyze and landscape can be run on the demo's model.
/// </summary>
internal static class DemoFiles
{
    public static IEnumerable<string> Write(string outDir, nn.Module model, Dataset data)
    {
        using var scope = NewDisposeScope();
        Directory.CreateDirectory(outDir);
        SafetensorsWriter.Write(Path.Combine(outDir, "model.safetensors"), model.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        SafetensorsWriter.Write(Path.Combine(outDir, "data.safetensors"), new Dictionary<string, Tensor> { ["x_train"] = data.X, ["y_train"] = data.Y });
        return [Path.Combine(outDir, "model.safetensors"), Path.Combine(outDir, "data.safetensors")];
    }
}
