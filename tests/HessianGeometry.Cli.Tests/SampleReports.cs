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
        var options = new AnalysisOptions
        {
            Seed = 42,
            TopEigenpairs = new EigenpairOptions { Count = 5 },
            BottomEigenpairs = new EigenpairOptions { Count = 3 },
            Trace = new HessianGeometry.Spectrum.TraceOptions(),
            SpectralDensity = new HessianGeometry.Spectrum.SpectralDensityOptions(),
            Alignment = new HessianGeometry.Geometry.AlignmentOptions(),
            Complexity = new ComplexityOptions(),
            Margin = new HessianGeometry.Geometry.MarginOptions(),
        };
        double[] top = [52.1, 30.4, 12.7, 3.3, 1.2];
        double[] topResiduals = [1.5e-7, 2.5e-7, 3.5e-6, 4.5e-7, 5.5e-7];
        double[] bottom = [-0.42, -0.11, -0.05];
        double[] bottomResiduals = [1e-8, 2e-8, 3e-8];
        return new MinimumReport
        {
            Model = new ModelSection { Parameters = 10503, Samples = 300, LossFunction = "cross-entropy", Loss = 0.0421337, Accuracy = 0.99, Precision = "Float64", HvpEngine = "AnalyticMlp" },
            Options = options,
            TopEigenpairs = Pairs(top, topResiduals, HessianGeometry.EigenSolvers.SpectrumEnd.LargestAlgebraic, 120),
            BottomEigenpairs = Pairs(bottom, bottomResiduals, HessianGeometry.EigenSolvers.SpectrumEnd.SmallestAlgebraic, 0),
            Traces = new TraceSection
            {
                Method = HessianGeometry.Spectrum.TraceMethod.Hutchinson, Trace = 123.456, TraceStandardError = 2.5, TraceOfSquare = 3901.77,
                TraceOfSquareStandardError = 40.25, Probes = 300, OperatorApplications = 300, ReachedTarget = true,
            },
            WolkowiczStyan = new WolkowiczStyanSection(0.0117543, 0.609373, 0.0176998, 62.4508, -62.4273, 0.00580873, true),
            SpectralDensity = new DensitySection
            {
                Grid = grid, Density = density, Nodes = [[0.0, 52.1], [0.1, 51.9]], Weights = [[0.9, 0.1], [0.88, 0.12]], Variance = 0.25,
                Runs = 2, Steps = 2, OperatorApplications = 800, Hesd = new HesdReport("MainlyPositive", -0.00806142, 0.0731994, 0.874512),
            },
            Alignment = alignment,
            AlignmentSummary = new AlignmentSection
            {
                Inputs = alignment.Length, Eigenvectors = 5, MeanAbsAlignment = [0.613742, 0.187351, 0.05, 0.01, 0.002], MaxAbsAlignment = [0.79871, 0.299874, 0.05, 0.01, 0.002],
            },
            Complexity = new ComplexitySection
            {
                EncodingCountMean = 3, EncodingCountMax = 3, EigenvectorsConsidered = 5, IsLowerBound = true, ComplexityMean = 3 / 10503.0, ComplexityMax = 3 / 10503.0,
                EncodingEigenvectors = [0, 1, 2], Epsilon = new EpsilonReport(0.0123987, 0.0456123, "random-baseline", 64, 42),
            },
            MarginDetails = new MarginSection
            {
                Margin = 1.23456, BoundaryPoint = [0.25, -0.4], NearestMaxIndex = 17, NearestMinIndex = 61, NearestMaxPoint = points[17], NearestMinPoint = points[61],
                FinalAbsAlignment = 0.987654, LogitGap = 0.00314159, Steps = 87, BisectionPoint = [0.1, -0.35], DistanceToBisectionPoint = 0.158114, OnBoundary = true,
            },
            Timings = TimingsSection.From(
            [
                new StageTiming("eigenpairs", 1.234, 120), new StageTiming("trace", 2.5, 300), new StageTiming("density", 4.75, 800), new StageTiming("margin", 0.5, 0),
            ]),
            Label = "gauss3 2-100-100-3 relu",
        };
    }

    /// <summary>A converged eigenpairs section with the given values and residuals.</summary>
    public static EigenpairsSection Pairs(double[] values, double[] residuals, HessianGeometry.EigenSolvers.SpectrumEnd which, long hvps) => new()
    {
        Solver = "lanczos",
        Which = which,
        Requested = values.Length,
        Eigenvalues = values,
        ResidualNorms = residuals,
        RelativeResiduals = values.Select((v, i) => residuals.Length > i ? residuals[i] / Math.Abs(v) : double.NaN).ToArray(),
        ConvergedPairs = values.Select(_ => true).ToArray(),
        Converged = true,
        Iterations = 3,
        OperatorApplications = hvps,
    };

    private static double Gaussian(double t, double mean, double variance) =>
        Math.Exp(-(t - mean) * (t - mean) / (2 * variance)) / Math.Sqrt(2 * Math.PI * variance);

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
