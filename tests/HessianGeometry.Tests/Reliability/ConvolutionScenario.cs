using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>Repeated gradient and Hessian-vector passes on <see cref="ResidualCnn"/>: are they finite, identical, how fast.</summary>
internal static class ConvolutionScenario
{
    /// <summary>What repeated gradient and HVP passes gave.</summary>
    /// <param name="Passes">Gradient passes run, and as many HVP passes.</param>
    /// <param name="NonFiniteGradients">Gradient passes with a NaN or Inf entry.</param>
    /// <param name="NonFiniteProducts">HVP passes with a NaN or Inf entry.</param>
    /// <param name="DifferentGradients">Gradient passes not bitwise identical to the first.</param>
    /// <param name="DifferentProducts">HVP passes not bitwise identical to the first.</param>
    /// <param name="GradientMilliseconds">Median time of one gradient pass.</param>
    /// <param name="ProductMilliseconds">Median time of one HVP (double backward) pass.</param>
    public sealed record Outcome(int Passes, int NonFiniteGradients, int NonFiniteProducts, int DifferentGradients, int DifferentProducts,
        double GradientMilliseconds, double ProductMilliseconds);

    public static Outcome Run(ScalarType dtype, int passes, int batch = 16, int size = 12, int channels = 8)
    {
        using var scope = NewDisposeScope();
        var model = new ResidualCnn(dtype, channels);
        var (x, y) = ResidualCnn.Data(dtype, batch, size);
        var parameters = model.parameters().ToArray();
        var generator = new Generator(13);
        var v = parameters.Select(p => randn(p.shape, dtype: dtype, generator: generator)).ToArray();

        Tensor? firstGradient = null, firstProduct = null;
        int nonFiniteG = 0, nonFiniteH = 0, differentG = 0, differentH = 0;
        var gradientTimes = new List<double>();
        var productTimes = new List<double>();
        for (var pass = 0; pass < passes; pass++)
        {
            using var passScope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var g = Gradient(model, x, y, parameters);
            gradientTimes.Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            var h = Product(model, x, y, parameters, v);
            productTimes.Add(clock.Elapsed.TotalMilliseconds);

            if (!isfinite(g).all().item<bool>())
                nonFiniteG++;
            if (!isfinite(h).all().item<bool>())
                nonFiniteH++;
            if (firstGradient is null)
            {
                firstGradient = g.MoveToOuterDisposeScope();
                firstProduct = h.MoveToOuterDisposeScope();
                continue;
            }
            if (!BitwiseEqual(firstGradient, g))
                differentG++;
            if (!BitwiseEqual(firstProduct!, h))
                differentH++;
        }
        return new Outcome(passes, nonFiniteG, nonFiniteH, differentG, differentH, Median(gradientTimes), Median(productTimes));
    }

    /// <summary>Median times with oneDNN on (libtorch's default) and off (inside the scope), and the median paired ratio.</summary>
    public sealed record Timing(double GradientOnMs, double GradientOffMs, double GradientRatio, double ProductOnMs, double ProductOffMs, double ProductRatio);

    /// <summary>
    /// Times gradient and HVP passes with oneDNN on and off, alternating inside one process pass by pass (the order flips
    /// every round), so that load from other processes on a shared machine hits both sides alike; ratios are off / on.
    /// </summary>
    public static Timing Time(ScalarType dtype, int rounds, int batch, int size, int channels)
    {
        using var scope = NewDisposeScope();
        var model = new ResidualCnn(dtype, channels);
        var (x, y) = ResidualCnn.Data(dtype, batch, size);
        var parameters = model.parameters().ToArray();
        var generator = new Generator(13);
        var v = parameters.Select(p => randn(p.shape, dtype: dtype, generator: generator)).ToArray();
        var times = new Dictionary<(bool Off, bool Product), List<double>>
        {
            [(false, false)] = [], [(true, false)] = [], [(false, true)] = [], [(true, true)] = [],
        };
        for (var round = -3; round < rounds; round++)
        {
            foreach (var off in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                using var backends = off ? ConvolutionBackendScope.Enter() : null;
                using var passScope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                Gradient(model, x, y, parameters).Dispose();
                var gradient = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                Product(model, x, y, parameters, v).Dispose();
                var product = clock.Elapsed.TotalMilliseconds;
                if (round < 0)
                    continue; // warm-up: allocator, oneDNN primitive cache
                times[(off, false)].Add(gradient);
                times[(off, true)].Add(product);
            }
        }
        double Ratio(bool product) => Median(times[(true, product)].Zip(times[(false, product)], (a, b) => a / b).ToList());
        return new Timing(Median(times[(false, false)]), Median(times[(true, false)]), Ratio(false),
            Median(times[(false, true)]), Median(times[(true, true)]), Ratio(true));
    }

    /// <summary>∇L over all parameters, flattened.</summary>
    public static Tensor Gradient(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Tensor[] parameters)
    {
        var loss = nn.functional.cross_entropy(model.call(x), y);
        var grads = torch.autograd.grad([loss], parameters);
        return cat(grads.Select(t => t.flatten()).ToArray());
    }

    /// <summary>H v by double backward (the first gradient keeps its graph), flattened.</summary>
    public static Tensor Product(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Tensor[] parameters, Tensor[] v)
    {
        var loss = nn.functional.cross_entropy(model.call(x), y);
        var grads = torch.autograd.grad([loss], parameters, retain_graph: true, create_graph: true);
        var dot = grads.Zip(v, (g, d) => (g * d).sum()).Aggregate((a, b) => a + b);
        var hv = torch.autograd.grad([dot], parameters);
        return cat(hv.Select(t => t.flatten()).ToArray());
    }

    /// <summary>Same shape and the same bits in every entry (finiteness is checked separately).</summary>
    public static bool BitwiseEqual(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype &&
        (a.dtype == ScalarType.Float64
            ? a.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits).SequenceEqual(b.data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits))
            : a.to(ScalarType.Float64).data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits)
                .SequenceEqual(b.to(ScalarType.Float64).data<double>().ToArray().Select(BitConverter.DoubleToInt64Bits)));

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
