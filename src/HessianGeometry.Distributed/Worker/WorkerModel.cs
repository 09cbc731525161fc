using HessianGeometry.Interop;
using HessianGeometry.Models;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// Loads a worker's model: a TorchScript file (eval mode required), or a safetensors state dict into the network of an
/// "mlp:" spec, built in the checkpoint's precision. (The CLI also reads torch.save pickles; a worker does not.)
/// </summary>
internal static class WorkerModel
{
    public static nn.Module<Tensor, Tensor> Load(string path, string? arch)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file '{path}' does not exist on this worker.", path);
        var kind = ModelFiles.Detect(path);
        switch (kind)
        {
            case ModelFileKind.TorchScript:
                if (arch is not null)
                    throw new ArgumentException($"An architecture was given, but '{path}' is a TorchScript archive, which carries its own. Drop the arch.");
                var script = TorchScriptModel.Load(path);
                if (script.training || script.named_modules().Any(m => m.module.training))
                {
                    script.Dispose();
                    throw new ArgumentException($"'{path}' was saved in training mode; re-export it after model.eval().");
                }
                return script;
            case ModelFileKind.Safetensors:
                if (arch is null)
                    throw new ArgumentException($"'{path}' is a safetensors state dict: weights without the architecture. Pass the arch (mlp:IN-H-…-OUT:ACT).");
                var spec = MlpSpec.Parse(arch);
                var weights = SafetensorsFile.Read(path);
                var dtype = weights.Entries.Any(e => e.DType == SafetensorsDType.F64) ? ScalarType.Float64 : ScalarType.Float32;
                var net = spec.Build(dtype);
                try
                {
                    StateDictLoader.Load(net, weights);
                }
                catch
                {
                    net.Dispose();
                    throw;
                }
                net.eval();
                return net;
            default:
                throw new ArgumentException($"'{path}' is {ModelFiles.Describe(kind)}. A worker reads a TorchScript file, or a safetensors state dict with an mlp: arch.");
        }
    }

    /// <summary>The dtype of the model's floating-point parameters (what the inputs are converted to).</summary>
    public static ScalarType DTypeOf(nn.Module<Tensor, Tensor> model) =>
        model.parameters().Select(p => p.dtype).FirstOrDefault(ScalarType.Float32);
}
