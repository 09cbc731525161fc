using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Cli.Training;

/// <summary>
/// Builds the demo MLPs as a Sequential named exactly like PyTorch's nn.Sequential ("0" Linear, "1" activation,
/// "2" Linear, …), so parameter names (0.weight, 0.bias, 2.weight, …) match PyTorch checkpoints.
/// </summary>
internal static class MlpFactory
{
    /// <summary>The activation names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Activations { get; } = ["relu", "tanh", "gelu", "sigmoid"];

    /// <summary>An MLP with the given layer widths (input first), the activation between Linear layers, seeded initial weights.</summary>
    public static Sequential Create(IReadOnlyList<int> sizes, string activation, long seed, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count < 2 || sizes.Any(s => s < 1))
            throw new ArgumentException($"Layer sizes must be at least two positive widths (input … output) but were [{string.Join(", ", sizes)}]; pass e.g. [2, 100, 100, 3].", nameof(sizes));
        var normalised = (activation ?? string.Empty).Trim().ToLowerInvariant();
        if (!Activations.Contains(normalised))
            throw new ArgumentException($"Activation must be one of {string.Join(", ", Activations)} but was '{activation}'; pass one of those names.", nameof(activation));

        // Linear draws its initial weights from the global generator: seed it right before construction.
        torch.manual_seed(seed);
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < sizes.Count - 1; i++)
        {
            layers.Add(((2 * i).ToString(CultureInfo.InvariantCulture), Linear(sizes[i], sizes[i + 1], dtype: dtype)));
            if (i < sizes.Count - 2)
                layers.Add(((2 * i + 1).ToString(CultureInfo.InvariantCulture), Activation(normalised)));
        }
        return Sequential(layers);
    }

    private static Module<Tensor, Tensor> Activation(string name) => name switch
    {
        "relu" => ReLU(),
        "tanh" => Tanh(),
        "gelu" => GELU(),
        _ => Sigmoid(),
    };
}
