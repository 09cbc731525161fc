using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Cli.Training;

/// <summary>Trains a classifier by full-batch Adam on the mean cross-entropy (every step sees every training point).</summary>
public static class MlpTrainer
{
    /// <summary>
    /// Runs <see cref="TrainingOptions.Epochs"/> Adam steps on L(θ) = (1/n) Σ_j CE(f(x_j; θ), y_j) and leaves the model
    /// in eval mode. Full batch, so the only randomness is the model's initialisation (seeded by whoever built it).
    /// </summary>
    /// <param name="model">The classifier; its parameters are updated in place.</param>
    /// <param name="x">Inputs [n, d], same dtype as the model.</param>
    /// <param name="y">Labels int64 [n].</param>
    /// <param name="options">Epochs, learning rate, seed.</param>
    /// <param name="progress">Receives the loss every <see cref="TrainingOptions.ProgressInterval"/> epochs.</param>
    /// <param name="ct">Checked every epoch.</param>
    public static TrainingResult Train(Sequential model, Tensor x, Tensor y, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        Validate(x, y, options);

        using var scope = NewDisposeScope();
        torch.manual_seed(options.Seed);
        var clock = Stopwatch.StartNew();
        model.train();
        using var optimizer = optim.Adam(model.parameters(), lr: options.LearningRate);
        var interval = Math.Max(1, options.ProgressInterval);
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            optimizer.step();
            if (progress is not null && (epoch % interval == 0 || epoch == options.Epochs))
                progress.Report(new TrainingProgress(epoch, options.Epochs, loss.ToDouble()));
        }
        model.eval();
        var (finalLoss, accuracy) = Evaluate(model, x, y);
        return new TrainingResult(finalLoss, accuracy, options.Epochs, clock.Elapsed);
    }

    /// <summary>Mean cross-entropy and accuracy of the model on (x, y), without building a graph.</summary>
    public static (double Loss, double Accuracy) Evaluate(Sequential model, Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.call(x);
        var loss = nn.functional.cross_entropy(logits, y).to_type(ScalarType.Float64).item<double>();
        var accuracy = logits.argmax(1).eq(y).to_type(ScalarType.Float64).mean().item<double>();
        return (loss, accuracy);
    }

    private static void Validate(Tensor x, Tensor y, TrainingOptions options)
    {
        if (x.dim() != 2)
            throw new ArgumentException($"Inputs must be a 2-D tensor [n, d] but had shape [{string.Join(", ", x.shape)}]; reshape them to one row per sample.", nameof(x));
        if (y.dim() != 1 || y.shape[0] != x.shape[0])
            throw new ArgumentException($"Labels must be a 1-D tensor with one entry per input row ({x.shape[0]}) but had shape [{string.Join(", ", y.shape)}]; pass one class index per sample.", nameof(y));
        if (y.dtype != ScalarType.Int64)
            throw new ArgumentException($"Labels must be int64 class indices but were {y.dtype}; convert them with y.to_type(ScalarType.Int64).", nameof(y));
        if (options.Epochs < 0)
            throw new ArgumentException($"Epochs must be ≥ 0 but was {options.Epochs}; pass a non-negative number of steps.", nameof(options));
        if (!(options.LearningRate > 0) || double.IsInfinity(options.LearningRate))
            throw new ArgumentException($"Learning rate must be a positive finite number but was {options.LearningRate}; pass e.g. 1e-2.", nameof(options));
    }
}
