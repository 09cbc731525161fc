using HessianGeometry.Analysis;

namespace HessianGeometry.Cli.Tests;

/// <summary>Hand-built reports with every section set, or none, and 2-D points like the gauss3 mixture.</summary>
internal static class SampleReports
{
    public static readonly double[][] Centres = [[2, -1], [-2, 0], [0, 2]];

    /// <summary>Three seeded Gaussian clusters (Box–Muller on System.Random), 40 points each, in class order.</summary>
    public static (double[][] Points, int[] Labels) Clusters(int seed = 7, int perClass = 40)
    {
        var random = new Random(seed);
        var points = new List<double[]>();
        var labels = new List<int>();
        for (var c = 0; c < 3; c++)
        for (var i = 0; i < perClass; i++)
        {
            points.Add([Centres[c][0] + 0.5 * Normal(random), Centres[c][1] + 0.5 * Normal(random)]);
            labels.Add(c);
        }
        return (points.ToArray(), labels.ToArray());
    }

    /// <summary>Nearest-centre classifier: the exact decision regions of the cluster centres.</summary>
    public static int[] NearestCentre(double[][] batch) => batch.Select(x =>
        Enumerable.Range(0, Centres.Length).MinBy(c => Math.Pow(x[0] - Centres[c][0], 2) + Math.Pow(x[1] - Centres[c][1], 2))).ToArray();

    public static MinimumReport Full()
    {
        var (points, _) = Clusters();
        // A synthetic alignment: |A_1| grows towards the boundary between classes 0 and 1, A_2 varies with x2.
        var alignment = points.Select(p => new[] { Math.Tanh(p[0]) * 0.8, 0.3 * Math.Sin(p[1]), 0.05, 0.01, 0.002 }).ToArray();
        var grid = Enumerable.Range(0, 201).Select(i => -10 + i * 0.35).ToArray();
        var density = grid.Select(t => 0.9 * Gaussian(t, 0, 0.5) + 0.1 * Gaussian(t, 52.1, 0.5)).ToArray();
        return new MinimumReport
        {
            Parameters = 10503,
            Samples = 300,
            LossFunction = "cross-entropy",
            Loss = 0.0421337,
            Accuracy = 0.99,
            Precision = "Float64",
            Settings = new AnalysisSettings { Seed = 42, Solver = "lanczos", TopEigenpairs = 5, BottomEigenpairs = 3, Tolerance = 1e-6, Trace = true, SpectralDensity = true, Alignment = true, BoundaryComplexity = true, Margin = true },
            Solver = "lanczos",
            Eigenvalues = [52.1, 30.4, 12.7, 3.3, 1.2],
            ResidualNorms = [1.5e-7, 2.5e-7, 3.5e-6, 4.5e-7, 5.5e-7],
            EigenpairsConverged = true,
            BottomEigenvalues = [-0.42, -0.11, -0.05],
            BottomResidualNorms = [1e-8, 2e-8, 3e-8],
            Trace = 123.456,
            TraceStandardError = 2.5,
            TraceMethod = "hutch++",
            TraceOfSquare = 3901.77,
            TraceOfSquareStandardError = 40.25,
            WolkowiczStyan = new WolkowiczStyanReport(0.0117543, 0.609373, 0.0176998, 62.4508, -62.4273, 0.00580873, true),
            HesdType = "MainlyPositive",
            Hesd = new HesdReport("MainlyPositive", -0.00806142, 0.0731994, 0.874512),
            SpectralDensity = new SpectralDensityReport(grid, density, [[0.0, 52.1], [0.1, 51.9]], [[0.9, 0.1], [0.88, 0.12]], 0.25),
            Alignment = alignment,
            MeanAbsAlignment = [0.613742, 0.187351, 0.05, 0.01, 0.002],
            MaxAbsAlignment = [0.79871, 0.299874, 0.05, 0.01, 0.002],
            Epsilon = new EpsilonReport(0.0123987, 0.0456123, "random-baseline", 64, 42),
            ComplexityMean = 3 / 10503.0,
            ComplexityMax = 3 / 10503.0,
            Complexity = new ComplexityReport(3, 3, 5, true),
            EncodingEigenvectors = [0, 1, 2],
            Margin = 1.23456,
            BoundaryPoint = [0.25, -0.4],
            MarginDetails = new MarginReport(17, 61, points[17], points[61], 0.987654, 0.00314159, 87, [0.1, -0.35], 0.158114),
            HvpCounts = new Dictionary<string, long> { ["eigenpairs"] = 120, ["trace"] = 300, ["density"] = 800 },
            HvpCount = 1220,
            TimingsSeconds = new Dictionary<string, double> { ["eigenpairs"] = 1.234, ["trace"] = 2.5, ["density"] = 4.75, ["margin"] = 0.5 },
            Label = "gauss3 2-100-100-3 relu",
        };
    }

    private static double Gaussian(double t, double mean, double variance) =>
        Math.Exp(-(t - mean) * (t - mean) / (2 * variance)) / Math.Sqrt(2 * Math.PI * variance);

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
