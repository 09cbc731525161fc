using HessianGeometry.Interop;
using HessianGeometry.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Loading;

/// <summary>
/// Reads <c>--model</c>, recognising the file by content (<see cref="ModelFiles.Detect"/>), not by extension: PyTorch
/// users save TorchScript archives and state-dict pickles alike as <c>.pt</c>.
/// </summary>
/// <remarks>
/// A TorchScript archive carries its architecture, so <c>--arch</c> is refused for it rather than ignored: a spec that
/// silently did nothing would suggest it had been checked against the file. A state dict (safetensors or
/// <c>torch.save</c> pickle) holds weights only, so it needs <c>--arch</c>.
/// </remarks>
internal static class ModelLoader
{
    public static LoadedModel Load(string path, string? arch, Device device)
    {
        var kind = ModelFiles.Detect(path);
        return kind switch
        {
            ModelFileKind.TorchScript => LoadScript(path, arch, device),
            ModelFileKind.Safetensors => LoadStateDict(path, kind, RequireArch(path, kind, arch), SafetensorsFile.Read(path), device),
            ModelFileKind.PyTorchPickle => LoadStateDict(path, kind, RequireArch(path, kind, arch), PyTorchPickleStateDict.Read(path), device),
            _ => throw new ArgumentException(
                $"--model '{path}' is {ModelFiles.Describe(kind)}. Pass a TorchScript file (torch.jit.script(model).save(path)), " +
                "or a state dict (safetensors, or torch.save(model.state_dict(), path)) together with --arch."),
        };
    }

    private static LoadedModel LoadScript(string path, string? arch, Device device)
    {
        if (arch is not null)
        {
            throw new ArgumentException(
                $"--arch was given, but --model '{path}' is a TorchScript archive, which carries its own architecture. Drop --arch " +
                "(it is only for state dicts: safetensors or torch.save(model.state_dict()) files).");
        }
        var model = TorchScriptModel.Load(path);
        var training = model.named_modules().Where(m => m.module.training).Select(m => m.name).ToList();
        if (model.training || training.Count > 0)
        {
            var where = model.training ? "the module itself" : string.Join(", ", training.Take(5)) + (training.Count > 5 ? ", …" : string.Empty);
            model.Dispose();
            // Refused rather than switched silently: batch-norm statistics and dropout in training mode make the Hessian
            // depend on the batch, and the file's author may not know it was exported that way.
            throw new ArgumentException(
                $"--model '{path}' was saved in training mode ({where}): batch-norm would use batch statistics and dropout would be random, " +
                "so the Hessian would not be the trained model's. Re-export it in eval mode from PyTorch: " +
                "model.eval(); torch.jit.script(model).save(path).");
        }
        if (device.type != DeviceType.CPU)
            model.to(device);
        return new LoadedModel(model, ModelFileKind.TorchScript, null, []);
    }

    private static MlpSpec RequireArch(string path, ModelFileKind kind, string? arch) =>
        arch is not null ? MlpSpec.Parse(arch)
        : throw new ArgumentException(
            $"--model '{path}' is {ModelFiles.Describe(kind)}: weights without the architecture. Pass --arch mlp:IN-H1-...-OUT:ACT " +
            "describing the network it was saved from, or export the model from PyTorch with torch.jit.script(model).save(path) and drop --arch.");

    private static string WithoutParameterName(ArgumentException ex) =>
        ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal);

    private static LoadedModel LoadStateDict(string path, ModelFileKind kind, MlpSpec spec, SafetensorsFile weights, Device device)
    {
        // Build in the checkpoint's precision: a float64 state dict loaded into a float32 network would lose digits
        // before the float64 analysis starts.
        var dtype = weights.Entries.Any(e => e.DType == SafetensorsDType.F64) ? ScalarType.Float64 : ScalarType.Float32;
        var net = spec.Build(dtype, device);
        try
        {
            StateDictLoader.Load(net, weights);
        }
        catch (ArgumentException ex)
        {
            net.Dispose();
            throw new ArgumentException($"--model '{path}' does not fit --arch {spec}: {WithoutParameterName(ex)}", ex);
        }
        var notes = kind == ModelFileKind.PyTorchPickle
            ? new[] { $"{Path.GetFileName(path)} was read as a torch.save state-dict pickle (TorchSharp.PyBridge) into {spec}." }
            : [];
        return new LoadedModel(net, kind, spec, notes);
    }
}
