using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// The network that showed oneDNN's intermittent NaN gradients: a bias-free stem convolution, one residual block
/// (bias-free Conv2d → BatchNorm2d → ReLU → Conv2d → BatchNorm2d, plus the skip), ReLU, global average pool and a Linear
/// head. Eval mode, batch-norm running statistics far from the identity, seeded.
/// </summary>
internal sealed class ResidualCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d stem;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d norm1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d norm2;
    private readonly Linear head;

    public ResidualCnn(ScalarType dtype, int channels = 8, int classes = 3, long seed = 11) : base(nameof(ResidualCnn))
    {
        torch.manual_seed(seed);
        stem = nn.Conv2d(3, channels, 3, padding: 1, bias: false, dtype: dtype);
        conv1 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false, dtype: dtype);
        norm1 = nn.BatchNorm2d(channels, dtype: dtype);
        conv2 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false, dtype: dtype);
        norm2 = nn.BatchNorm2d(channels, dtype: dtype);
        head = nn.Linear(channels, classes, dtype: dtype);
        RegisterComponents();
        using (no_grad())
        {
            foreach (var norm in new[] { norm1, norm2 })
            {
                norm.running_mean!.copy_(randn(channels, dtype: dtype) * 0.3);
                norm.running_var!.copy_(rand(channels, dtype: dtype) * 2 + 0.25);
                norm.weight!.copy_(rand(channels, dtype: dtype) + 0.5);
                norm.bias!.copy_(randn(channels, dtype: dtype) * 0.1);
            }
        }
        eval();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(stem.call(input));
        var block = norm2.call(conv2.call(nn.functional.relu(norm1.call(conv1.call(h)))));
        var output = head.call(nn.functional.relu(h + block).mean([2L, 3L]));
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Seeded inputs [n, 3, size, size] and labels [n] for this model.</summary>
    public static (Tensor X, Tensor Y) Data(ScalarType dtype, int n = 16, int size = 12, int classes = 3, long seed = 12)
    {
        var generator = new Generator((ulong)seed);
        var x = randn([n, 3, size, size], dtype: dtype, generator: generator);
        var y = randint(classes, [n], dtype: ScalarType.Int64, generator: generator);
        return (x, y);
    }
}
