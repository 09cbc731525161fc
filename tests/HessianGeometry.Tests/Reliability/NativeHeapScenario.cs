using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// Minor page faults per Hessian-vector product of the float64 residual CNN (double backward, inside
/// <see cref="ConvolutionBackendScope"/> like an analysis): the product frees its convolution temporaries (im2col columns)
/// and allocates them again each time, so a heap that glibc trims back to the kernel after each product faults them in again.
/// Linux only (faults are read from /proc/self/stat); elsewhere -1.
/// </summary>
internal static class NativeHeapScenario
{
    public static double PageFaultsPerProduct(int products = 10)
    {
        if (!OperatingSystem.IsLinux())
            return -1;
        using var backends = ConvolutionBackendScope.Enter();
        using var scope = NewDisposeScope();
        var model = new ResidualCnn(ScalarType.Float64);
        var (x, y) = ResidualCnn.Data(ScalarType.Float64, n: 48);
        var parameters = model.parameters().ToArray();
        var generator = new Generator(13);
        var v = parameters.Select(p => randn(p.shape, dtype: ScalarType.Float64, generator: generator)).ToArray();
        for (var i = 0; i < 3; i++)
            Product();
        var start = MinorFaults();
        for (var i = 0; i < products; i++)
            Product();
        return (MinorFaults() - start) / (double)products;

        void Product()
        {
            using var productScope = NewDisposeScope();
            ConvolutionScenario.Product(model, x, y, parameters, v);
        }
    }

    /// <summary>Field 10 of /proc/self/stat: minor page faults of this process so far.</summary>
    private static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7], System.Globalization.CultureInfo.InvariantCulture);
    }
}
