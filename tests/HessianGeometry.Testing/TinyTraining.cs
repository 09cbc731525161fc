using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Testing;

/// <summary>
/// Deterministic full-batch training for the tiny models, so tests can reach the "few outliers + bulk" Hessian
/// spectrum of a trained network (an untrained network's spectrum has no clear outliers).
/// </summary>
public static class TinyTraining
{
    /// <summary>Runs <paramref name="steps"/> full-batch Adam steps on the cross-entropy loss; returns the final loss.</summary>
    public static double CrossEntropyAdam(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor labels, int steps, double learningRate = 0.01)
    {
        var optimizer = optim.Adam(model.parameters(), lr: learningRate);
        var last = double.NaN;
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(inputs), labels);
            loss.backward();
            optimizer.step();
            last = loss.item<double>();
        }
        optimizer.zero_grad();
        return last;
    }
}
