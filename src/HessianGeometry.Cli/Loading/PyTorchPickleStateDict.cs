using System.Collections;
using System.Runtime.InteropServices;
using HessianGeometry.Interop;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Loading;

/// <summary>
/// Reads a state dict saved with <c>torch.save(model.state_dict(), path)</c> (a zip with <c>data.pkl</c>) through
/// TorchSharp.PyBridge's unpickler, and hands it on as an in-memory safetensors file.
/// </summary>
/// <remarks>
/// PyBridge is used for the pickle format only; safetensors stays with the library's own reader, which rejects every
/// malformed file with a <see cref="SafetensorsFormatException"/> (PyBridge's reader accepted 7 of the 33 malformed
/// files of <c>SafetensorsMalformedFileTests</c>; see docs/cli.md). Going through safetensors bytes means the weights
/// take the same path into the network as a safetensors state dict: <see cref="StateDictLoader"/>'s key, shape and
/// dtype checks. The reference lives in the CLI, not in the library, so the library keeps depending on TorchSharp only.
/// Razorvine.Pickle, under PyBridge, does not execute pickled code: unknown classes fail or come back as data.
/// </remarks>
internal static class PyTorchPickleStateDict
{
    private const string Fix = "Save the weights with torch.save(model.state_dict(), path), or as safetensors (safetensors.torch.save_file(model.state_dict(), path)).";

    public static SafetensorsFile Read(string path)
    {
        using var scope = NewDisposeScope();
        Hashtable entries;
        try
        {
            entries = PyTorchUnpickler.UnpickleStateDict(path);
        }
        // PyBridge reports problems as whatever exception its parser happens to hit; none of them is a native crash
        // (checked on 12 broken and unusual files), so one message with the cause serves them all.
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var reason = ex is ExternalException ? ex.Message.Split('\n')[0] : $"{ex.GetType().Name}: {ex.Message}";
            throw new ArgumentException($"--model '{path}' could not be read as a torch.save state dict ({reason}). {Fix}", ex);
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var other = new List<string>();
        foreach (DictionaryEntry entry in entries)
        {
            var name = entry.Key as string ?? Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "?";
            if (entry.Value is Tensor t)
                tensors[name] = t.contiguous();
            else
                other.Add($"'{name}' ({entry.Value?.GetType().Name ?? "None"})");
        }
        if (other.Count > 0)
        {
            throw new ArgumentException(
                $"--model '{path}' holds entries that are not tensors: {string.Join(", ", other.Take(8))}{(other.Count > 8 ? ", …" : string.Empty)}. " +
                $"A checkpoint that nests the state dict (e.g. {{'model': ..., 'epoch': ...}}) is not a state dict. {Fix}");
        }
        using var buffer = new MemoryStream();
        try
        {
            SafetensorsWriter.WriteTo(buffer, tensors);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"--model '{path}' holds a tensor the analysis cannot use: {ex.Message}", ex);
        }
        buffer.Position = 0;
        return SafetensorsFile.ReadFrom(buffer);
    }
}
