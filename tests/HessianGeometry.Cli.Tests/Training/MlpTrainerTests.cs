using HessianGeometry.Cli.Datasets;
using HessianGeometry.Cli.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Tests.Training;

public sealed class MlpTrainerTests(ITestOutputHelper output)
{
    [Fact]
    public void MlpFactory_NamesLayersLikePyTorchSequential()
    {
        using var model = MlpFactory.Create([2, 100, 100, 3], "relu", seed: 0);
        var names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias" }, names);
        // 2·100 + 100 + 100·100 + 100 + 100·3 + 3.
        Assert.Equal(10703, model.parameters().Sum(p => p.numel()));
        Assert.Equal(new[] { "0", "1", "2", "3", "4" }, model.named_children().Select(c => c.name).ToArray());
    }

    [Fact]
    public void MlpFactory_WithTheSameSeed_BuildsIdenticalWeights()
    {
        using var first = MlpFactory.Create([2, 8, 3], "tanh", seed: 9);
        using var again = MlpFactory.Create([2, 8, 3], "tanh", seed: 9);
        using var other = MlpFactory.Create([2, 8, 3], "tanh", seed: 10);
        Assert.Equal(Flat(first), Flat(again));
        Assert.NotEqual(Flat(first), Flat(other));
    }

    [Theory]
    [InlineData(new[] { 2 }, "relu")]
    [InlineData(new[] { 2, 0, 3 }, "relu")]
    [InlineData(new[] { 2, 3 }, "swish")]
    public void MlpFactory_RejectsBadSizesAndUnknownActivations(int[] sizes, string activation) =>
        Assert.Throws<ArgumentException>(() => MlpFactory.Create(sizes, activation, seed: 0));

    [Fact]
    public void Train_Gauss3With2x100x100x3Relu_ReachesAtLeast95PercentTrainAccuracyWithDefaults()
    {
        using var data = BuiltInDatasets.Load("gauss3", seed: 0);
        using var model = MlpFactory.Create([2, 100, 100, 3], "relu", seed: 0);
        var result = MlpTrainer.Train(model, data.X, data.Y, new TrainingOptions(), null, CancellationToken.None);
        output.WriteLine($"gauss3 2-100-100-3 relu: loss {result.Loss:G4}, accuracy {result.Accuracy:P2}, {result.Epochs} epochs in {result.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(2000, result.Epochs);
        Assert.True(result.Accuracy >= 0.95, $"train accuracy {result.Accuracy:P2} < 95 %");
        // The reported numbers agree with an independent evaluation of the trained model.
        Assert.Equal(Accuracy(model, data), result.Accuracy, 12);
        Assert.Equal(CrossEntropy(model, data), result.Loss, 5);
        Assert.False(model.training, "the trainer leaves the model in eval mode");
    }

    [Fact]
    public void Train_LowersTheLossFromItsInitialValue_AndIsReproducible()
    {
        using var data = BuiltInDatasets.Load("moons", seed: 0);
        using var model = MlpFactory.Create([2, 16, 2], "tanh", seed: 3);
        var initial = CrossEntropy(model, data);
        var options = new TrainingOptions { Epochs = 200 };
        var result = MlpTrainer.Train(model, data.X, data.Y, options, null, CancellationToken.None);
        using var twin = MlpFactory.Create([2, 16, 2], "tanh", seed: 3);
        var again = MlpTrainer.Train(twin, data.X, data.Y, options, null, CancellationToken.None);

        Assert.True(result.Loss < 0.5 * initial, $"loss {result.Loss} did not halve from {initial}");
        Assert.Equal(result.Loss, again.Loss);
        Assert.Equal(Flat(model), Flat(twin));
    }

    [Fact]
    public void Train_ReportsProgressEveryIntervalAndAtTheEnd()
    {
        using var data = BuiltInDatasets.Load("gauss3", seed: 0);
        using var model = MlpFactory.Create([2, 8, 3], "relu", seed: 0);
        var reports = new List<TrainingProgress>();
        MlpTrainer.Train(model, data.X, data.Y, new TrainingOptions { Epochs = 25, ProgressInterval = 10 }, new Collect(reports), CancellationToken.None);
        Assert.Equal(new[] { 10, 20, 25 }, reports.Select(r => r.Epoch).ToArray());
        Assert.All(reports, r => Assert.Equal(25, r.Epochs));
        Assert.Equal(1.0, reports[^1].Fraction);
    }

    [Fact]
    public void Train_AFloat64Model_ReportsProgressAndFitsTheData()
    {
        using var data = BuiltInDatasets.Load("gauss3", seed: 0);
        using var model = MlpFactory.Create([2, 16, 3], "gelu", seed: 0, ScalarType.Float64);
        using var x = data.X.to_type(ScalarType.Float64);
        var reports = new List<TrainingProgress>();
        var result = MlpTrainer.Train(model, x, data.Y, new TrainingOptions { Epochs = 300 }, new Collect(reports), CancellationToken.None);
        Assert.Equal(3, reports.Count);
        Assert.True(reports[^1].Loss < reports[0].Loss, "the loss fell during training");
        Assert.True(result.Accuracy >= 0.95, $"train accuracy {result.Accuracy:P2} < 95 %");
    }

    [Fact]
    public void Train_WithACancelledToken_ThrowsOperationCanceled()
    {
        using var data = BuiltInDatasets.Load("gauss3", seed: 0);
        using var model = MlpFactory.Create([2, 8, 3], "relu", seed: 0);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => MlpTrainer.Train(model, data.X, data.Y, new TrainingOptions(), null, cancelled.Token));
    }

    [Fact]
    public void Train_WithFloatLabels_ThrowsArgumentExceptionBeforeTouchingLibtorch()
    {
        using var data = BuiltInDatasets.Load("gauss3", seed: 0);
        using var model = MlpFactory.Create([2, 8, 3], "relu", seed: 0);
        using var floatLabels = data.Y.to_type(ScalarType.Float32);
        var error = Assert.Throws<ArgumentException>(() => MlpTrainer.Train(model, data.X, floatLabels, new TrainingOptions(), null, CancellationToken.None));
        Assert.Contains("int64", error.Message, StringComparison.Ordinal);
    }

    private static float[] Flat(nn.Module model) => model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    private static double Accuracy(TorchSharp.Modules.Sequential model, Dataset data)
    {
        using var noGrad = no_grad();
        using var logits = model.call(data.X);
        var values = logits.data<float>().ToArray();
        var labels = data.Labels();
        var classes = data.Classes;
        var correct = 0;
        for (var j = 0; j < labels.Length; j++)
        {
            var row = values.AsSpan(j * classes, classes).ToArray();
            if (Array.IndexOf(row, row.Max()) == labels[j])
                correct++;
        }
        return (double)correct / labels.Length;
    }

    private static double CrossEntropy(TorchSharp.Modules.Sequential model, Dataset data)
    {
        // −(1/n) Σ_j log softmax(z_j)[y_j], computed in double from the logits.
        using var noGrad = no_grad();
        using var logits = model.call(data.X);
        var values = logits.data<float>().ToArray();
        var labels = data.Labels();
        var classes = data.Classes;
        var total = 0.0;
        for (var j = 0; j < labels.Length; j++)
        {
            var row = values.AsSpan(j * classes, classes).ToArray().Select(v => (double)v).ToArray();
            var max = row.Max();
            var logSum = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            total += logSum - row[labels[j]];
        }
        return total / labels.Length;
    }

    private sealed class Collect(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
