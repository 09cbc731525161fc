using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Datasets;

/// <summary>
/// The small classification data sets the demo trains on. All synthetic ones are drawn from a seeded torch generator
/// on the CPU, so the same seed gives bitwise the same points on every machine.
/// </summary>
public static class BuiltInDatasets
{
    /// <summary>The names <see cref="Load"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["gauss3", "moons", "circles", "checkerboard", "iris"];

    /// <summary>Loads a built-in data set by name (case-insensitive).</summary>
    /// <param name="name">gauss3, moons, circles, checkerboard or iris.</param>
    /// <param name="seed">Seed of the random draws (iris is fixed data and ignores it).</param>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static Dataset Load(string name, int seed)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "gauss3" => Gauss3(seed),
            "moons" => Moons(300, 0.1, seed),
            "circles" => Circles(300, 0.1, 0.5, seed),
            "checkerboard" => Checkerboard(4, 25, seed),
            "iris" => Iris(),
            _ => throw new ArgumentException(
                $"Data set must be one of {string.Join(", ", Names)} but was '{name}'; pass one of those names.", nameof(name)),
        };
    }

    /// <summary>
    /// The three-Gaussian mixture of the decision-boundary paper: class c has mean μ_c and per-axis standard deviations
    /// σ_c, μ = (2,−1), (−2,0), (0,2), σ = (0.5,0.5), (0.5,1), (0.5,0.5); 100 points per class, in class order.
    /// </summary>
    internal static Dataset Gauss3(int seed)
    {
        using var scope = NewDisposeScope();
        var means = tensor(new double[,] { { 2, -1 }, { -2, 0 }, { 0, 2 } });
        var deviations = tensor(new double[,] { { 0.5, 0.5 }, { 0.5, 1 }, { 0.5, 0.5 } });
        const int perClass = 100;
        var y = arange(3, dtype: ScalarType.Int64).repeat_interleave(perClass);
        var noise = randn(3 * perClass, 2, dtype: ScalarType.Float64, generator: Generator(seed));
        var x = means.index_select(0, y) + deviations.index_select(0, y) * noise;
        return Finish("gauss3", x, y, 3, ["x1", "x2"]);
    }

    /// <summary>
    /// Two interleaving half circles like scikit-learn's make_moons: the outer moon (cos t, sin t) is class 0, the
    /// inner (1 − cos t, 1/2 − sin t) class 1, t evenly spaced on [0, π], plus N(0, noise²) on both axes.
    /// </summary>
    internal static Dataset Moons(int n, double noise, int seed)
    {
        using var scope = NewDisposeScope();
        var nOuter = n / 2;
        var nInner = n - nOuter;
        var tOuter = linspace(0, Math.PI, nOuter, dtype: ScalarType.Float64);
        var tInner = linspace(0, Math.PI, nInner, dtype: ScalarType.Float64);
        var outer = stack([cos(tOuter), sin(tOuter)], dim: 1);
        var inner = stack([1 - cos(tInner), 0.5 - sin(tInner)], dim: 1);
        var x = cat([outer, inner], dim: 0) + noise * randn(n, 2, dtype: ScalarType.Float64, generator: Generator(seed));
        var y = cat([zeros(nOuter, dtype: ScalarType.Int64), ones(nInner, dtype: ScalarType.Int64)], dim: 0);
        return Finish("moons", x, y, 2, ["x1", "x2"]);
    }

    /// <summary>
    /// Two concentric circles like scikit-learn's make_circles: the outer unit circle is class 0, the inner circle of
    /// radius <paramref name="factor"/> class 1 (angles evenly spaced, endpoint excluded), plus N(0, noise²).
    /// scikit-learn's default factor 0.8 overlaps heavily at noise 0.1; the demo uses 0.5 so the classes separate.
    /// </summary>
    internal static Dataset Circles(int n, double noise, double factor, int seed)
    {
        using var scope = NewDisposeScope();
        var nOuter = n / 2;
        var nInner = n - nOuter;
        var tOuter = arange(nOuter, dtype: ScalarType.Float64) * (2 * Math.PI / nOuter);
        var tInner = arange(nInner, dtype: ScalarType.Float64) * (2 * Math.PI / nInner);
        var outer = stack([cos(tOuter), sin(tOuter)], dim: 1);
        var inner = factor * stack([cos(tInner), sin(tInner)], dim: 1);
        var x = cat([outer, inner], dim: 0) + noise * randn(n, 2, dtype: ScalarType.Float64, generator: Generator(seed));
        var y = cat([zeros(nOuter, dtype: ScalarType.Int64), ones(nInner, dtype: ScalarType.Int64)], dim: 0);
        return Finish("circles", x, y, 2, ["x1", "x2"]);
    }

    /// <summary>
    /// A cells × cells checkerboard on [−cells/2, cells/2]², unit cells, class = (column + row) mod 2. Each cell gets
    /// exactly <paramref name="perCell"/> uniform points, so the classes are balanced (4 × 4 × 25 = 400 points).
    /// </summary>
    internal static Dataset Checkerboard(int cells, int perCell, int seed)
    {
        using var scope = NewDisposeScope();
        var cell = arange(cells * cells, dtype: ScalarType.Int64).repeat_interleave(perCell);
        var column = cell % cells;
        var row = cell.div(cells, rounding_mode: RoundingMode.floor);
        var corner = stack([column, row], dim: 1).to_type(ScalarType.Float64) - cells / 2.0;
        var x = corner + rand(cells * cells * perCell, 2, dtype: ScalarType.Float64, generator: Generator(seed));
        var y = (column + row) % 2;
        return Finish("checkerboard", x, y, 2, ["x1", "x2"]);
    }

    /// <summary>Fisher's iris (150 × 4, 3 classes), each feature standardised to mean 0 and (population) standard deviation 1.</summary>
    internal static Dataset Iris()
    {
        using var scope = NewDisposeScope();
        var (raw, labels) = ReadIris();
        var x = tensor(raw);
        var standardised = (x - x.mean([0])) / x.std(0, unbiased: false);
        var y = tensor(labels.Select(l => (long)l).ToArray());
        return Finish("iris", standardised, y, 3, ["sepal length", "sepal width", "petal length", "petal width"]);
    }

    /// <summary>The raw iris measurements in cm (150 × 4) and labels (setosa 0, versicolor 1, virginica 2), from the embedded CSV.</summary>
    internal static (double[,] Features, int[] Labels) ReadIris()
    {
        const string resource = "HessianGeometry.Cli.Resources.iris.csv";
        using var stream = typeof(BuiltInDatasets).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded resource '{resource}' is missing; rebuild the CLI with Resources/iris.csv as an EmbeddedResource.");
        using var reader = new StreamReader(stream);
        // scikit-learn's header line: "n_samples,n_features,class names…".
        var header = (reader.ReadLine() ?? string.Empty).Split(',');
        var n = int.Parse(header[0], CultureInfo.InvariantCulture);
        var d = int.Parse(header[1], CultureInfo.InvariantCulture);
        var features = new double[n, d];
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            var fields = (reader.ReadLine() ?? throw new InvalidDataException($"iris.csv ends after {i} of {n} rows.")).Split(',');
            for (var j = 0; j < d; j++)
                features[i, j] = double.Parse(fields[j], CultureInfo.InvariantCulture);
            labels[i] = int.Parse(fields[d], CultureInfo.InvariantCulture);
        }
        return (features, labels);
    }

    private static torch.Generator Generator(int seed) => new((ulong)seed, device: CPU);

    private static Dataset Finish(string name, Tensor x, Tensor y, int classes, string[] featureNames) =>
        new(name, x.to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope(), y.contiguous().MoveToOuterDisposeScope(), classes, featureNames);
}
