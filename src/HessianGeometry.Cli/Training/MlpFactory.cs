using HessianGeometry.Interop;
using TorchSharp;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Cli.Training;

/// <summary>
/// Seeded demo MLPs, built through <see cref="MlpSpec"/> so their parameter names (0.weight, 0.bias, 2.weight, …)
/// match PyTorch's nn.Sequential checkpoints.
/// </summary>
internal static class MlpFactory
{
    /// <summary>An MLP with the given layer widths (input first), the activation between Linear layers, seeded initial weights.</summary>
    public static Sequential Create(IReadOnlyList<int> sizes, string activation, long seed, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        MlpSpec spec;
        try
        {
            spec = MlpSpec.Parse($"mlp:{string.Join("-", sizes)}:{(activation ?? string.Empty).Trim().ToLowerInvariant()}");
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(sizes), ex);
        }
        // Linear draws its initial weights from the global generator: seed it right before construction.
        torch.manual_seed(seed);
        return spec.Build(dtype);
    }
}
