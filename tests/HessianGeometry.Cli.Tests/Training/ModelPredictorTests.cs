using HessianGeometry.Cli.Datasets;
using HessianGeometry.Cli.Training;
using HessianGeometry.Cli.Tests.Plotting;
using HessianGeometry.Plotting;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Training;

public sealed class ModelPredictorTests
{
    [Fact]
    public void Classifier_ReturnsTheArgmaxOfTheLogits_InBatchesOfAnySize()
    {
        using var model = MlpFactory.Create([2, 8, 3], "tanh", seed: 1);
        var random = new Random(3);
        var rows = Enumerable.Range(0, ModelPredictor.BatchSize + 17).Select(_ => new[] { 4 * random.NextDouble() - 2, 4 * random.NextDouble() - 2 }).ToArray();
        var predicted = ModelPredictor.Classifier(model)(rows);

        using var x = tensor(rows.SelectMany(r => r).Select(v => (float)v).ToArray(), [rows.Length, 2]);
        using var noGrad = no_grad();
        using var logits = model.call(x);
        var values = logits.data<float>().ToArray();
        for (var j = 0; j < rows.Length; j++)
        {
            var row = values.AsSpan(j * 3, 3).ToArray();
            Assert.Equal(Array.IndexOf(row, row.Max()), predicted[j]);
        }
        Assert.Empty(ModelPredictor.Classifier(model)([]));
    }

    [Fact]
    public void DecisionRegions_OfATrainedGauss3Model_ShowThreeRegions()
    {
        using var data = BuiltInDatasets.Load("gauss3", seed: 0);
        using var model = MlpFactory.Create([2, 32, 3], "relu", seed: 0);
        var trained = MlpTrainer.Train(model, data.X, data.Y, new TrainingOptions { Epochs = 300 }, null, CancellationToken.None);
        var predict = ModelPredictor.Classifier(model);
        var points = data.Rows();
        var labels = data.Labels();
        Assert.Equal(trained.Accuracy, predict(points).Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length, 12);

        using var folder = new TempFolder();
        var path = folder.File("gauss3-regions.png");
        // Colour by the distance from the origin: a stand-in for |A_1| until the analysis supplies it.
        var colour = points.Select(p => Math.Sqrt(p[0] * p[0] + p[1] * p[1])).ToArray();
        ReportPlots.DecisionRegions(points, labels, colour, predict, null, null, "gauss3, trained 2-32-3 ReLU", path, "‖x‖");
        var palette = new ScottPlot.Palettes.Category10();
        for (var c = 0; c < 3; c++)
        {
            var region = palette.GetColor(c).Lighten(0.7);
            Assert.True(PngImage.Fraction(path, region.R, region.G, region.B) > 0.05, $"class {c} region covers too little of the image");
        }
    }
}
