using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace HessianGeometry.Operators;

/// <summary>
/// Maps a chosen set of trainable parameters to one flat vector θ ∈ ℝ^p and back, in the order the module lists them.
/// Every Hessian, eigenvector and gradient in this library is indexed by this order.
/// </summary>
public sealed class ParameterSpace
{
    private readonly Tensor[] tensors;
    private readonly long[] sizes;
    private readonly long[] offsets;

    private ParameterSpace(IReadOnlyList<string> names, Tensor[] tensors)
    {
        Names = names;
        this.tensors = tensors;
        sizes = tensors.Select(t => t.numel()).ToArray();
        offsets = new long[sizes.Length];
        for (var i = 1; i < sizes.Length; i++)
            offsets[i] = offsets[i - 1] + sizes[i - 1];
        Shapes = tensors.Select(t => t.shape).ToArray();
        Dimension = sizes.Sum();
        DType = tensors[0].dtype;
        Device = tensors[0].device;
    }

    /// <summary>Parameter names, e.g. <c>0.weight</c>, in flat-vector order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Parameter shapes, in flat-vector order.</summary>
    public IReadOnlyList<long[]> Shapes { get; }

    /// <summary>The parameter tensors themselves (not copies), in flat-vector order.</summary>
    public IReadOnlyList<Tensor> Tensors => tensors;

    /// <summary>p, the total number of scalar parameters.</summary>
    public long Dimension { get; }

    /// <summary>The parameters' common dtype.</summary>
    public ScalarType DType { get; }

    /// <summary>The parameters' common device.</summary>
    public Device Device { get; }

    /// <summary>
    /// Selects the module's trainable parameters (those with <c>requires_grad</c>), optionally filtered by name.
    /// </summary>
    /// <param name="module">The model.</param>
    /// <param name="include">Keeps a parameter when it returns true for its name (e.g. <c>n =&gt; n.StartsWith("2.")</c>).</param>
    public static ParameterSpace FromModule(Module module, Func<string, bool>? include = null)
    {
        Guard.NotNull(module, nameof(module));
        TorchRuntime.EnsureLoaded();
        var all = module.named_parameters().ToList();
        if (all.Count == 0)
            throw new ArgumentException("The module has no parameters, so it has no Hessian. Pass the trained model itself.", nameof(module));
        var chosen = all.Where(np => include is null || include(np.name)).ToList();
        if (chosen.Count == 0)
        {
            throw new ArgumentException(
                $"The parameter selection is empty: no parameter name matched. Names available: {string.Join(", ", all.Select(np => np.name))}.",
                nameof(include));
        }
        var frozen = chosen.Where(np => !np.parameter.requires_grad).Select(np => np.name).ToList();
        if (include is null)
        {
            chosen = chosen.Where(np => np.parameter.requires_grad).ToList();
            if (chosen.Count == 0)
                throw new ArgumentException("Every parameter of the module has requires_grad = false. Enable requires_grad on the parameters to analyse.", nameof(module));
        }
        else if (frozen.Count > 0)
        {
            throw new ArgumentException(
                $"The selection includes parameters with requires_grad = false ({string.Join(", ", frozen)}). Exclude them from the selection or set requires_grad = true.",
                nameof(include));
        }
        return FromTensors(chosen.Select(np => np.name).ToList(), chosen.Select(np => (Tensor)np.parameter).ToArray());
    }

    /// <summary>Builds a space over explicit leaf tensors (all must require grad, share dtype and device).</summary>
    public static ParameterSpace FromTensors(IReadOnlyList<string> names, IReadOnlyList<Tensor> tensors)
    {
        Guard.NotNull(names, nameof(names));
        Guard.NotNull(tensors, nameof(tensors));
        if (tensors.Count == 0 || names.Count != tensors.Count)
            throw new ArgumentException($"Need one name per tensor and at least one tensor, got {names.Count} names and {tensors.Count} tensors.", nameof(tensors));
        for (var i = 0; i < tensors.Count; i++)
        {
            Guard.Valid(tensors[i], $"parameter '{names[i]}'");
            if (!tensors[i].is_floating_point())
                throw new ArgumentException($"Parameter '{names[i]}' has dtype {tensors[i].dtype}; only floating-point parameters have a Hessian.", nameof(tensors));
            // torch.autograd.grad aborts the process (no .NET exception) on an input that does not require grad.
            if (!tensors[i].requires_grad)
                throw new ArgumentException($"Parameter '{names[i]}' has requires_grad = false, so autograd cannot differentiate with respect to it. Set requires_grad = true on it, or leave it out of the selection.", nameof(tensors));
            if (tensors[i].dtype != tensors[0].dtype)
                throw new ArgumentException($"Parameters mix dtypes ({names[0]}: {tensors[0].dtype}, {names[i]}: {tensors[i].dtype}). Convert the model to one dtype with model.to(dtype).", nameof(tensors));
            if (!Guard.SameDevice(tensors[i].device, tensors[0].device))
                throw new ArgumentException($"Parameters live on different devices ({names[0]}: {tensors[0].device}, {names[i]}: {tensors[i].device}). Move the model to one device with model.to(device).", nameof(tensors));
        }
        return new ParameterSpace(names.ToArray(), tensors.ToArray());
    }

    /// <summary>Concatenates one tensor per parameter (same shapes as the parameters) into a flat vector [p].</summary>
    public Tensor Flatten(IReadOnlyList<Tensor> perParameter)
    {
        Guard.NotNull(perParameter, nameof(perParameter));
        if (perParameter.Count != tensors.Length)
            throw new ArgumentException($"Expected {tensors.Length} tensors (one per parameter) but got {perParameter.Count}.", nameof(perParameter));
        using var scope = NewDisposeScope();
        return cat(perParameter.Select(t => t.reshape(-1)).ToList(), 0).MoveToOuterDisposeScope();
    }

    /// <summary>Splits a flat vector [p] into views shaped like the parameters.</summary>
    public Tensor[] Unflatten(Tensor flat)
    {
        Guard.Vector(flat, Dimension, flat.dtype, flat.device, nameof(flat));
        var pieces = flat.split(sizes, 0);
        var views = new Tensor[pieces.Length];
        for (var i = 0; i < pieces.Length; i++)
        {
            views[i] = pieces[i].view(Shapes[i]);
            pieces[i].Dispose();
        }
        return views;
    }

    /// <summary>A detached copy of the current parameter values as a flat vector [p].</summary>
    public Tensor GetValues()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var flat = cat(tensors.Select(t => t.detach().reshape(-1)).ToList(), 0);
        // TorchSharp's cat returns its only input itself (here a view of the parameter), so one parameter needs a clone.
        return (tensors.Length == 1 ? flat.clone() : flat).MoveToOuterDisposeScope();
    }

    /// <summary>Overwrites the parameters in place from a flat vector [p] (no autograd history is recorded).</summary>
    public void SetValues(Tensor flat)
    {
        Guard.Vector(flat, Dimension, flat.dtype, flat.device, nameof(flat));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var views = Unflatten(flat);
        for (var i = 0; i < tensors.Length; i++)
            tensors[i].copy_(views[i]);
    }

    /// <summary>Position of <paramref name="parameter"/> (the tensor object itself) in the selection, or −1 when not selected.</summary>
    public int IndexOf(Tensor parameter)
    {
        for (var i = 0; i < tensors.Length; i++)
        {
            if (ReferenceEquals(tensors[i], parameter))
                return i;
        }
        return -1;
    }

    /// <summary>Where parameter number <paramref name="index"/> starts inside the flat vector.</summary>
    public long OffsetOf(int index) => offsets[index];

    /// <summary>Index range [start, end) of parameter <paramref name="name"/> inside the flat vector.</summary>
    public (long Start, long End) RangeOf(string name)
    {
        long start = 0;
        for (var i = 0; i < tensors.Length; i++)
        {
            if (Names[i] == name)
                return (start, start + sizes[i]);
            start += sizes[i];
        }
        throw new ArgumentException($"No parameter named '{name}'. Names available: {string.Join(", ", Names)}.", nameof(name));
    }
}
