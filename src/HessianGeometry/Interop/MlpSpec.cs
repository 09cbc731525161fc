using System.Globalization;
using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Interop;

/// <summary>
/// A fully connected network written as <c>mlp:IN-H1-…-OUT:ACT</c>, e.g. <c>mlp:784-128-10:relu</c>:
/// f(x) = W_L act(… act(W_1 x + b_1) …) + b_L, with no activation after the last layer (the logits).
/// </summary>
/// <remarks>
/// <see cref="Build"/> returns a Sequential whose children are named "0", "1", … exactly as PyTorch's
/// <c>nn.Sequential(nn.Linear, act, nn.Linear, …)</c> names them, so the state-dict keys are <c>0.weight</c>,
/// <c>0.bias</c>, <c>2.weight</c>, … and a PyTorch checkpoint loads with <see cref="StateDictLoader"/>.
/// </remarks>
public sealed record MlpSpec
{
    private readonly int[] layerSizes;

    /// <summary>Creates a spec from layer widths (input first, output last) and the hidden activation.</summary>
    /// <exception cref="ArgumentException">Fewer than two widths, or a width below 1.</exception>
    public MlpSpec(IReadOnlyList<int> layerSizes, MlpActivation activation)
    {
        Guard.NotNull(layerSizes, nameof(layerSizes));
        if (layerSizes.Count < 2)
            throw new ArgumentException($"An MLP needs at least an input and an output width but got {layerSizes.Count} width(s). Pass e.g. [784, 128, 10].", nameof(layerSizes));
        for (var i = 0; i < layerSizes.Count; i++)
        {
            if (layerSizes[i] < 1)
                throw new ArgumentException($"Layer width {i} must be at least 1 but was {layerSizes[i]}.", nameof(layerSizes));
        }
        if (!Enum.IsDefined(activation))
            throw new ArgumentException($"activation must be one of {string.Join(", ", Enum.GetNames<MlpActivation>())} but was {activation}.", nameof(activation));
        this.layerSizes = layerSizes.ToArray();
        Activation = activation;
    }

    /// <summary>Layer widths, input first and output last.</summary>
    public IReadOnlyList<int> LayerSizes => layerSizes;

    /// <summary>The activation between Linear layers.</summary>
    public MlpActivation Activation { get; }

    /// <summary>The input width.</summary>
    public int InputSize => layerSizes[0];

    /// <summary>The output width (number of classes for a classifier).</summary>
    public int OutputSize => layerSizes[^1];

    /// <summary>p = Σ_l (n_{l−1} n_l + n_l), the number of weights and biases.</summary>
    public long ParameterCount
    {
        get
        {
            long p = 0;
            for (var i = 0; i + 1 < layerSizes.Length; i++)
                p += (long)layerSizes[i] * layerSizes[i + 1] + layerSizes[i + 1];
            return p;
        }
    }

    /// <summary>The state-dict names in parameter order: <c>0.weight, 0.bias, 2.weight, 2.bias, …</c>.</summary>
    public IReadOnlyList<string> ParameterNames =>
        Enumerable.Range(0, layerSizes.Length - 1)
            .SelectMany(i => new[] { $"{2 * i}.weight", $"{2 * i}.bias" })
            .ToList();

    /// <summary>Parses <c>mlp:IN-H1-…-OUT:ACT</c> with ACT one of relu, tanh, gelu, sigmoid (case-insensitive; spaces around parts ignored).</summary>
    /// <exception cref="FormatException">The text is not such a spec; the message names the part that is wrong.</exception>
    public static MlpSpec Parse(string spec)
    {
        Guard.NotNull(spec, nameof(spec));
        return TryParse(spec, out var result, out var error) ? result : throw new FormatException(error);
    }

    /// <summary>Parses like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryParse(string? spec, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MlpSpec? result)
    {
        var ok = TryParse(spec, out var parsed, out _);
        result = ok ? parsed : null;
        return ok;
    }

    /// <summary>
    /// Builds the network as a Sequential of Linear and activation modules named "0", "1", … (PyTorch's names), in
    /// eval mode, with TorchSharp's default initialisation; load trained values with <see cref="StateDictLoader"/>.
    /// </summary>
    /// <param name="dtype">A floating-point dtype for the weights (default Float32, PyTorch's default).</param>
    /// <param name="device">Where the weights live (default CPU).</param>
    public Sequential Build(ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (dtype is not (ScalarType.Float64 or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"dtype must be a floating-point type (Float64, Float32, Float16 or BFloat16) but was {dtype}.", nameof(dtype));
        TorchRuntime.EnsureLoaded();
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < layerSizes.Length; i++)
        {
            layers.Add(((2 * i).ToString(CultureInfo.InvariantCulture), nn.Linear(layerSizes[i], layerSizes[i + 1], hasBias: true, device: device, dtype: dtype)));
            if (i + 2 < layerSizes.Length)
                layers.Add(((2 * i + 1).ToString(CultureInfo.InvariantCulture), CreateActivation()));
        }
        var model = nn.Sequential(layers);
        model.eval();
        return model;
    }

    /// <summary>The canonical text form, e.g. <c>mlp:3-5-4-3:tanh</c>; <see cref="Parse"/> reads it back.</summary>
    public override string ToString() =>
        "mlp:" + string.Join("-", layerSizes.Select(s => s.ToString(CultureInfo.InvariantCulture))) + ":" + ActivationName(Activation);

    /// <summary>Specs are equal when their widths and activation are.</summary>
    public bool Equals(MlpSpec? other) =>
        other is not null && Activation == other.Activation && layerSizes.AsSpan().SequenceEqual(other.layerSizes);

    /// <summary>A hash of the widths and the activation.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Activation);
        foreach (var s in layerSizes)
            hash.Add(s);
        return hash.ToHashCode();
    }

    private nn.Module<Tensor, Tensor> CreateActivation() => Activation switch
    {
        MlpActivation.ReLU => nn.ReLU(),
        MlpActivation.Tanh => nn.Tanh(),
        MlpActivation.GELU => nn.GELU(),
        _ => nn.Sigmoid(),
    };

    private static string ActivationName(MlpActivation activation) => activation switch
    {
        MlpActivation.ReLU => "relu",
        MlpActivation.Tanh => "tanh",
        MlpActivation.GELU => "gelu",
        _ => "sigmoid",
    };

    private static bool TryParse(string? spec, out MlpSpec result, out string error)
    {
        result = null!;
        const string form = "Write it as mlp:IN-H1-...-OUT:ACT with ACT one of relu, tanh, gelu, sigmoid, e.g. mlp:784-128-10:relu.";
        if (string.IsNullOrWhiteSpace(spec))
        {
            error = $"The model spec is empty. {form}";
            return false;
        }
        var parts = spec.Split(':');
        if (parts.Length != 3)
        {
            error = $"The model spec '{spec}' has {parts.Length} ':'-separated part(s) but needs 3 (family, widths, activation). {form}";
            return false;
        }
        var family = parts[0].Trim();
        if (!family.Equals("mlp", StringComparison.OrdinalIgnoreCase))
        {
            error = $"The model spec '{spec}' names the family '{family}', but only 'mlp' is supported. {form}";
            return false;
        }
        var tokens = parts[1].Split('-');
        if (tokens.Length < 2)
        {
            error = $"The model spec '{spec}' gives {tokens.Length} layer width(s) but an MLP needs at least an input and an output width separated by '-'. {form}";
            return false;
        }
        var sizes = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i].Trim();
            if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
            {
                error = $"Layer width {i} in the model spec '{spec}' is '{token}', which is not a positive integer. {form}";
                return false;
            }
        }
        MlpActivation? activation = parts[2].Trim().ToLowerInvariant() switch
        {
            "relu" => MlpActivation.ReLU,
            "tanh" => MlpActivation.Tanh,
            "gelu" => MlpActivation.GELU,
            "sigmoid" => MlpActivation.Sigmoid,
            _ => null,
        };
        if (activation is null)
        {
            error = $"The activation '{parts[2].Trim()}' in the model spec '{spec}' is not supported; use relu, tanh, gelu or sigmoid.";
            return false;
        }
        result = new MlpSpec(sizes, activation.Value);
        error = string.Empty;
        return true;
    }
}
