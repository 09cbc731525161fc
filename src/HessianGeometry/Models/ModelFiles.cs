using System.IO.Compression;
using HessianGeometry.Internal;

namespace HessianGeometry.Models;

/// <summary>Recognises model files by content, not by extension (PyTorch users save everything as .pt).</summary>
public static class ModelFiles
{
    /// <summary>What the file at <paramref name="path"/> is.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    public static ModelFileKind Detect(string path)
    {
        Guard.NotNull(path, nameof(path));
        if (!File.Exists(path))
            throw new FileNotFoundException($"No model file at '{path}'. Check the path.", path);
        Span<byte> head = stackalloc byte[9];
        int read;
        using (var stream = File.OpenRead(path))
            read = stream.Read(head);
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
            return ZipKind(path);
        if (read == 9 && BitConverter.ToUInt64(head[..8]) is > 1 and < 100_000_000 && head[8] == (byte)'{')
            return ModelFileKind.Safetensors;
        return ModelFileKind.Unknown;
    }

    /// <summary>A phrase for messages: "a TorchScript archive", "a torch.save pickle", ….</summary>
    public static string Describe(ModelFileKind kind) => kind switch
    {
        ModelFileKind.TorchScript => "a TorchScript archive",
        ModelFileKind.PyTorchPickle => "a torch.save pickle (a state dict or a pickled model)",
        ModelFileKind.Safetensors => "a safetensors file",
        _ => "neither a TorchScript archive, a torch.save pickle nor a safetensors file",
    };

    /// <summary>What to do with a file of this kind when a TorchScript module was expected.</summary>
    public static string Fix(ModelFileKind kind) => kind switch
    {
        ModelFileKind.PyTorchPickle or ModelFileKind.Safetensors =>
            "A state dict holds weights without the architecture: load it into a model built in C# (StateDictLoader, or the CLI's --arch), " +
            "or export the model from PyTorch with torch.jit.script(model).save(path).",
        _ => "Export the model from PyTorch with torch.jit.script(model).save(path) (or torch.jit.trace).",
    };

    private static ModelFileKind ZipKind(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            if (names.Any(n => n.Contains("/code/", StringComparison.Ordinal) || n.StartsWith("code/", StringComparison.Ordinal)))
                return ModelFileKind.TorchScript;
            if (names.Any(n => n.EndsWith("data.pkl", StringComparison.Ordinal)))
                return ModelFileKind.PyTorchPickle;
            return ModelFileKind.Unknown;
        }
        catch (InvalidDataException)
        {
            return ModelFileKind.Unknown;
        }
    }
}
