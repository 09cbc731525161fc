using HessianGeometry.Cli.Datasets;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Datasets;

public sealed class BuiltInDatasetsTests
{
    [Theory]
    [InlineData("gauss3", 300, 2, 3)]
    [InlineData("moons", 300, 2, 2)]
    [InlineData("circles", 300, 2, 2)]
    [InlineData("checkerboard", 400, 2, 2)]
    [InlineData("iris", 150, 4, 3)]
    public void Load_ReturnsFloat32InputsAndInt64LabelsOfTheDocumentedShape(string name, int n, int d, int classes)
    {
        using var data = BuiltInDatasets.Load(name, seed: 1);
        Assert.Equal(name, data.Name);
        Assert.Equal(new long[] { n, d }, data.X.shape);
        Assert.Equal(new long[] { n }, data.Y.shape);
        Assert.Equal(ScalarType.Float32, data.X.dtype);
        Assert.Equal(ScalarType.Int64, data.Y.dtype);
        Assert.Equal(classes, data.Classes);
        Assert.Equal(d, data.FeatureNames.Length);
        Assert.All(data.Labels(), label => Assert.InRange(label, 0, classes - 1));
    }

    [Theory]
    [InlineData("gauss3", new[] { 100, 100, 100 })]
    [InlineData("moons", new[] { 150, 150 })]
    [InlineData("circles", new[] { 150, 150 })]
    [InlineData("checkerboard", new[] { 200, 200 })]
    [InlineData("iris", new[] { 50, 50, 50 })]
    public void Load_HasTheDocumentedClassCounts(string name, int[] counts)
    {
        using var data = BuiltInDatasets.Load(name, seed: 3);
        Assert.Equal(counts, data.ClassCounts());
    }

    [Theory]
    [InlineData("gauss3")]
    [InlineData("moons")]
    [InlineData("circles")]
    [InlineData("checkerboard")]
    public void Load_WithTheSameSeed_IsBitwiseReproducible_AndADifferentSeedChangesThePoints(string name)
    {
        using var first = BuiltInDatasets.Load(name, seed: 11);
        using var again = BuiltInDatasets.Load(name, seed: 11);
        using var other = BuiltInDatasets.Load(name, seed: 12);
        Assert.Equal(first.X.data<float>().ToArray(), again.X.data<float>().ToArray());
        Assert.Equal(first.Labels(), again.Labels());
        Assert.NotEqual(first.X.data<float>().ToArray(), other.X.data<float>().ToArray());
    }

    [Fact]
    public void Gauss3_ClassMeansAndSpreadsMatchThePaper()
    {
        // μ_c and per-axis σ_c of the decision-boundary paper's mixture; 100 points per class.
        double[][] means = [[2, -1], [-2, 0], [0, 2]];
        double[][] deviations = [[0.5, 0.5], [0.5, 1], [0.5, 0.5]];
        using var data = BuiltInDatasets.Load("gauss3", seed: 5);
        var rows = data.Rows();
        var labels = data.Labels();
        for (var c = 0; c < 3; c++)
        for (var axis = 0; axis < 2; axis++)
        {
            var values = rows.Where((_, j) => labels[j] == c).Select(r => r[axis]).ToArray();
            var mean = values.Average();
            var sd = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Sum() / (values.Length - 1));
            // 4 standard errors: σ/√n for the mean, about σ/√(2n) for the standard deviation.
            Assert.InRange(mean, means[c][axis] - 4 * deviations[c][axis] / 10, means[c][axis] + 4 * deviations[c][axis] / 10);
            Assert.InRange(sd, deviations[c][axis] * (1 - 4 / Math.Sqrt(200)), deviations[c][axis] * (1 + 4 / Math.Sqrt(200)));
        }
    }

    [Fact]
    public void Moons_PointsLieNearTheirHalfCircles()
    {
        // Outer moon: unit circle about (0, 0), upper half; inner: unit circle about (1, 0.5), lower half; noise 0.1.
        using var data = BuiltInDatasets.Load("moons", seed: 2);
        var rows = data.Rows();
        var labels = data.Labels();
        var outer = rows.Where((_, j) => labels[j] == 0).Select(p => Math.Abs(Math.Sqrt(p[0] * p[0] + p[1] * p[1]) - 1)).Average();
        var inner = rows.Where((_, j) => labels[j] == 1).Select(p => Math.Abs(Math.Sqrt((p[0] - 1) * (p[0] - 1) + (p[1] - 0.5) * (p[1] - 0.5)) - 1)).Average();
        // E|N(0, 0.1²)| ≈ 0.08 for the radial part.
        Assert.InRange(outer, 0.03, 0.13);
        Assert.InRange(inner, 0.03, 0.13);
        Assert.True(rows.Where((_, j) => labels[j] == 0).Average(p => p[1]) > 0.4, "the outer moon is the upper half circle");
        Assert.True(rows.Where((_, j) => labels[j] == 1).Average(p => p[1]) < 0.1, "the inner moon is the lower half circle");
    }

    [Fact]
    public void Circles_OuterClassHasRadiusOneAndInnerClassRadiusOneHalf()
    {
        using var data = BuiltInDatasets.Load("circles", seed: 2);
        var rows = data.Rows();
        var labels = data.Labels();
        double Radius(int c) => rows.Where((_, j) => labels[j] == c).Average(p => Math.Sqrt(p[0] * p[0] + p[1] * p[1]));
        Assert.InRange(Radius(0), 0.97, 1.03);
        Assert.InRange(Radius(1), 0.47, 0.56);
    }

    [Fact]
    public void Checkerboard_LabelsAlternateBetweenUnitCells_With25PointsPerCell()
    {
        using var data = BuiltInDatasets.Load("checkerboard", seed: 4);
        var rows = data.Rows();
        var labels = data.Labels();
        var perCell = new int[4, 4];
        for (var j = 0; j < rows.Length; j++)
        {
            Assert.InRange(rows[j][0], -2, 2);
            Assert.InRange(rows[j][1], -2, 2);
            var column = (int)Math.Floor(rows[j][0] + 2);
            var row = (int)Math.Floor(rows[j][1] + 2);
            Assert.Equal((column + row) % 2, labels[j]);
            perCell[column, row]++;
        }
        Assert.All(perCell.Cast<int>(), count => Assert.Equal(25, count));
    }

    [Fact]
    public void Iris_RawDataStartsWithFishersFirstRows()
    {
        var (features, labels) = BuiltInDatasets.ReadIris();
        Assert.Equal(150, features.GetLength(0));
        Assert.Equal(4, features.GetLength(1));
        Assert.Equal(new[] { 5.1, 3.5, 1.4, 0.2 }, Row(features, 0));
        Assert.Equal(0, labels[0]);
        Assert.Equal(new[] { 7.0, 3.2, 4.7, 1.4 }, Row(features, 50));
        Assert.Equal(1, labels[50]);
        Assert.Equal(new[] { 5.9, 3.0, 5.1, 1.8 }, Row(features, 149));
        Assert.Equal(2, labels[149]);
    }

    [Fact]
    public void Iris_IsStandardisedPerFeature_MatchingScikitLearnsStandardScaler()
    {
        using var data = BuiltInDatasets.Load("iris", seed: 0);
        var rows = data.Rows();
        // StandardScaler().fit_transform(load_iris().data)[0] (population standard deviation).
        var expected = new[] { -0.90068117, 1.01900435, -1.34022653, -1.3154443 };
        for (var k = 0; k < 4; k++)
        {
            Assert.Equal(expected[k], rows[0][k], 5);
            var column = rows.Select(r => r[k]).ToArray();
            Assert.Equal(0, column.Average(), 5);
            Assert.Equal(1, Math.Sqrt(column.Select(v => v * v).Average()), 5);
        }
    }

    [Theory]
    [InlineData("GAUSS3")]
    [InlineData(" Moons ")]
    public void Load_IgnoresCaseAndSurroundingSpace(string name)
    {
        using var data = BuiltInDatasets.Load(name, seed: 0);
        Assert.Equal(name.Trim().ToLowerInvariant(), data.Name);
    }

    [Fact]
    public void Load_WithAnUnknownName_ThrowsArgumentExceptionListingTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => BuiltInDatasets.Load("spirals", seed: 0));
        Assert.Contains("'spirals'", error.Message, StringComparison.Ordinal);
        foreach (var name in BuiltInDatasets.Names)
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    private static double[] Row(double[,] matrix, int i) => Enumerable.Range(0, matrix.GetLength(1)).Select(k => matrix[i, k]).ToArray();
}
