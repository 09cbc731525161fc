using HessianGeometry.Internal;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Interop;

/// <summary>
/// Copies a PyTorch state dict stored as safetensors into a TorchSharp module, matching keys to the module's
/// <c>named_parameters()</c> and persistent <c>named_buffers()</c> the way <c>torch.nn.Module.load_state_dict</c>
/// does (a Sequential built from named children "0", "1", … has PyTorch's names <c>0.weight</c>, <c>0.bias</c>, …).
/// </summary>
/// <remarks>
/// All checks — key sets, shapes, dtype compatibility — run first, and every tensor is read from the file before the
/// first parameter is overwritten, so a failed load leaves the module exactly as it was.
/// </remarks>
public static class StateDictLoader
{
    private const int ListedKeys = 12;

    /// <summary>
    /// Overwrites the module's parameters and persistent buffers with the file's tensors of the same name, converting
    /// each to the parameter's dtype and device (no autograd history is recorded).
    /// </summary>
    /// <param name="module">The module to fill; its parameter objects stay the same, only their values change.</param>
    /// <param name="file">The checkpoint.</param>
    /// <param name="strict">
    /// When true (default), every parameter and buffer must be in the file and every file key (under
    /// <paramref name="prefix"/>) must name one; otherwise keys present on one side only are skipped and reported.
    /// </param>
    /// <param name="prefix">
    /// Only file keys starting with this prefix are considered, with the prefix removed (e.g. <c>"model."</c> for a
    /// file that also stores data or optimizer state); other keys are ignored, not reported as unexpected.
    /// </param>
    /// <exception cref="ArgumentException">
    /// Keys are missing or unexpected (strict), a shape differs, or a floating-point tensor would be copied into an
    /// integer or boolean buffer. The message lists every offending key.
    /// </exception>
    public static StateDictLoadReport Load(Module module, SafetensorsFile file, bool strict = true, string? prefix = null)
    {
        Guard.NotNull(module, nameof(module));
        Guard.NotNull(file, nameof(file));
        TorchRuntime.EnsureLoaded();
        prefix ??= string.Empty;

        var targets = new List<(string Name, Tensor Tensor)>();
        foreach (var (name, parameter) in module.named_parameters())
            targets.Add((name, parameter));
        foreach (var (name, buffer) in module.named_buffers(true, false))
            targets.Add((name, buffer));
        foreach (var (name, tensor) in targets)
            Guard.Valid(tensor, $"module tensor '{name}'");

        var fileKeys = file.Entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Name[prefix.Length..], e => e, StringComparer.Ordinal);
        var moduleNames = targets.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var missing = targets.Select(t => t.Name).Where(n => !fileKeys.ContainsKey(n)).ToList();
        var unexpected = fileKeys.Keys.Where(k => !moduleNames.Contains(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
        {
            var parts = new List<string>();
            if (missing.Count > 0)
                parts.Add($"missing keys (in the module, not in the file{PrefixNote(prefix)}): {List(missing)}");
            if (unexpected.Count > 0)
                parts.Add($"unexpected keys (in the file{PrefixNote(prefix)}, not in the module): {List(unexpected)}");
            throw new ArgumentException(
                $"The checkpoint does not match the module: {string.Join("; ", parts)}. Build the module with the architecture the checkpoint was saved from " +
                "(e.g. the same MlpSpec), pass the prefix the file nests the state dict under, or pass strict: false to load only the keys that match.", nameof(file));
        }

        var matched = targets.Where(t => fileKeys.ContainsKey(t.Name)).ToList();
        var problems = new List<string>();
        foreach (var (name, tensor) in matched)
        {
            var entry = fileKeys[name];
            if (!entry.Shape.SequenceEqual(tensor.shape))
                problems.Add($"'{name}': file {SafetensorsHeader.Format(entry.Shape)} vs module {Guard.Shape(tensor)}");
            else if (IsFloating(entry.DType) && !tensor.is_floating_point())
                problems.Add($"'{name}': file dtype {entry.DType} cannot be copied into the module's {tensor.dtype} without losing values");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException(
                $"The checkpoint's tensors do not fit the module ({problems.Count} of {matched.Count}): {List(problems)}. " +
                "Build the module with the layer sizes the checkpoint was saved with.", nameof(file));
        }

        using var scope = NewDisposeScope();
        // Read everything first: an I/O or format failure while reading then cannot leave a half-loaded module.
        var values = matched.Select(t => file.LoadTensor(prefix + t.Name)).ToList();
        using (no_grad())
        {
            for (var i = 0; i < matched.Count; i++)
                matched[i].Tensor.copy_(values[i]);
        }
        return new StateDictLoadReport(matched.Select(t => t.Name).ToList(), strict ? [] : missing, strict ? [] : unexpected);
    }

    private static bool IsFloating(SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F64 or SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    private static string PrefixNote(string prefix) => prefix.Length == 0 ? string.Empty : $" under prefix '{prefix}'";

    private static string List(List<string> items) =>
        string.Join(", ", items.Take(ListedKeys)) + (items.Count > ListedKeys ? $", … ({items.Count} in all)" : string.Empty);
}
