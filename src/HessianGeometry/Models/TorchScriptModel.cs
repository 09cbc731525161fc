using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Models;

/// <summary>
/// A TorchScript module (exported from PyTorch with <c>torch.jit.script</c> or <c>torch.jit.trace</c> and loaded with
/// <c>torch.jit.load</c>) as a TorchSharp <c>Module&lt;Tensor, Tensor&gt;</c>, so every operator, solver and geometry
/// measure of the library accepts it. Parameters, buffers, submodules and train/eval flags are the script module's own
/// (same names as in PyTorch); nothing is copied, and changing them here changes the script module.
/// </summary>
/// <remarks>
/// TorchSharp hands out a new wrapper object for a script module's parameter on every enumeration. This adapter keeps
/// one set of wrappers, so the parameter tensors are the same objects for the lifetime of the adapter (which
/// <c>ParameterSpace</c> relies on); converting the module with <c>to(…)</c> refreshes them.
/// </remarks>
public sealed class TorchScriptModel : nn.Module<Tensor, Tensor>
{
    private readonly jit.ScriptModule<Tensor, Tensor> script;
    private readonly bool ownsScript;
    private (string name, TorchSharp.Modules.Parameter parameter)[]? parameterCache;
    private (string name, Tensor buffer)[]? bufferCache;
    private (string name, nn.Module module)[]? moduleCache;

    /// <summary>Wraps a loaded script module; the caller keeps ownership of it.</summary>
    /// <param name="module">The module from <c>torch.jit.load&lt;Tensor, Tensor&gt;(path)</c>.</param>
    public TorchScriptModel(jit.ScriptModule<Tensor, Tensor> module)
        : this(module, ownsScript: false)
    {
    }

    private TorchScriptModel(jit.ScriptModule<Tensor, Tensor> module, bool ownsScript)
        : base(nameof(TorchScriptModel))
    {
        Guard.NotNull(module, nameof(module));
        script = module;
        this.ownsScript = ownsScript;
    }

    /// <summary>The wrapped script module.</summary>
    public jit.ScriptModule<Tensor, Tensor> Script => script;

    /// <summary>Loads a TorchScript file saved by PyTorch (<c>torch.jit.save</c>) onto the CPU; the model owns the module.</summary>
    /// <param name="path">The .pt file (a zip archive with <c>code/</c> and <c>data.pkl</c>).</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="ArgumentException">The file is not a TorchScript archive; the message says what it is instead.</exception>
    public static TorchScriptModel Load(string path)
    {
        TorchRuntime.EnsureLoaded();
        var kind = ModelFiles.Detect(path);
        if (kind != ModelFileKind.TorchScript)
            throw new ArgumentException($"'{path}' is {ModelFiles.Describe(kind)}, not a TorchScript archive. {ModelFiles.Fix(kind)}", nameof(path));
        jit.ScriptModule<Tensor, Tensor> loaded;
        try
        {
            loaded = jit.load<Tensor, Tensor>(path);
        }
        catch (System.Runtime.InteropServices.ExternalException ex)
        {
            throw new ArgumentException($"libtorch could not load the TorchScript file '{path}': {ex.Message.Split('\n')[0]}. " +
                "Export the model with torch.jit.script(model) or torch.jit.trace(model, example) and torch.jit.save.", nameof(path), ex);
        }
        return new TorchScriptModel(loaded, ownsScript: true);
    }

    /// <summary>
    /// An independent copy of the module converted to <paramref name="dtype"/> (saved and reloaded through a temporary
    /// file): how a float64 analysis of a float32 TorchScript model runs without touching the caller's module. The copy
    /// owns its script module.
    /// </summary>
    public TorchScriptModel CopyAs(ScalarType dtype)
    {
        var file = Path.Combine(Path.GetTempPath(), $"hessian-geometry-{Guid.NewGuid():N}.pt");
        try
        {
            jit.save(script, file);
            var copy = jit.load<Tensor, Tensor>(file);
            copy.to(dtype);
            var model = new TorchScriptModel(copy, ownsScript: true);
            model.train(training);
            foreach (var ((_, original), (_, twin)) in named_modules().Zip(model.named_modules()))
                twin.train(original.training);
            return model;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => script.call(input);

    /// <inheritdoc />
    public override IEnumerable<(string name, TorchSharp.Modules.Parameter parameter)> named_parameters(bool recurse = true) =>
        recurse ? parameterCache ??= script.named_parameters(true).ToArray() : script.named_parameters(false);

    /// <inheritdoc />
    public override IEnumerable<TorchSharp.Modules.Parameter> parameters(bool recurse = true) =>
        named_parameters(recurse).Select(np => np.parameter);

    /// <inheritdoc />
    public override IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true, bool include_nonpersistent = true) =>
        recurse && include_nonpersistent ? bufferCache ??= script.named_buffers(true, true).ToArray() : script.named_buffers(recurse, include_nonpersistent);

    /// <inheritdoc />
    public override IEnumerable<Tensor> buffers(bool recurse = true, bool include_nonpersistent = true) =>
        named_buffers(recurse, include_nonpersistent).Select(nb => nb.buffer);

    /// <inheritdoc />
    public override IEnumerable<(string name, nn.Module module)> named_modules() => moduleCache ??= script.named_modules().ToArray();

    /// <inheritdoc />
    public override IEnumerable<nn.Module> modules() => named_modules().Select(nm => nm.module);

    /// <inheritdoc />
    public override IEnumerable<(string name, nn.Module module)> named_children() => script.named_children();

    /// <inheritdoc />
    public override IEnumerable<nn.Module> children() => named_children().Select(nc => nc.module);

    /// <inheritdoc />
    public override bool training => script.training;

    /// <inheritdoc />
    public override void train(bool train = true) => script.train(train);

    /// <inheritdoc />
    public override void eval() => script.eval();

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        script.to(dtype);
        ClearCaches();
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        script.to(deviceType, deviceIndex);
        ClearCaches();
        return this;
    }

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        script.to(device, dtype);
        ClearCaches();
        return this;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsScript)
        {
            // The base class lists the submodules after this; list them while the script is still alive.
            moduleCache ??= script.named_modules().ToArray();
            script.Dispose();
        }
        base.Dispose(disposing);
    }

    private void ClearCaches()
    {
        parameterCache = null;
        bufferCache = null;
        moduleCache = null;
    }
}
