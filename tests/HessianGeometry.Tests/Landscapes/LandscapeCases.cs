using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Tests.Landscapes;

/// <summary>Models and data shared by the landscape tests.</summary>
internal static class LandscapeCases
{
    /// <summary>Least squares y ≈ X w (no bias): L(w) = (1/n)‖Xw − y‖², exactly quadratic with H = 2XᵀX/n.</summary>
    public static (Sequential Model, Tensor X, Tensor Y) LinearRegression(bool atMinimum, int n = 40, int d = 5, long seed = 3)
    {
        var g = new Generator((ulong)seed);
        var x = randn(n, d, dtype: ScalarType.Float64, generator: g);
        var y = randn(n, 1, dtype: ScalarType.Float64, generator: g);
        torch.manual_seed(seed + 1);
        var model = nn.Sequential(("0", nn.Linear(d, 1, hasBias: false, dtype: ScalarType.Float64)));
        if (atMinimum)
        {
            using var _ = no_grad();
            var w = linalg.lstsq(x, y).Solution; // [d, 1]
            model.parameters().First().copy_(w.T);
        }
        return (model, x, y);
    }

    /// <summary>L(w + δ) = L(w) + (2/n) rᵀXδ + (1/n)‖Xδ‖² with r = Xw − y: the exact expansion of the least-squares loss.</summary>
    public static double LeastSquaresAt(Tensor x, Tensor y, Tensor w, Tensor delta)
    {
        using var scope = NewDisposeScope();
        var n = x.shape[0];
        var r = x.mm(w.reshape(-1, 1)) - y;
        var xd = x.mm(delta.reshape(-1, 1));
        return (r.square().sum().item<double>() + 2 * r.mul(xd).sum().item<double>() + xd.square().sum().item<double>()) / n;
    }

    public static Sequential Mlp(long seed, ScalarType dtype = ScalarType.Float64) => TinyModels.Mlp([3, 6, 3], "tanh", seed, dtype);

    /// <summary>An MLP trained in float64 (TinyTraining needs float64) and copied into a float32 model.</summary>
    public static Sequential TrainedFloat32Mlp(long seed, Tensor x64, Tensor y)
    {
        var trained = Mlp(seed);
        TinyTraining.CrossEntropyAdam(trained, x64, y, steps: 50);
        var model = Mlp(seed, ScalarType.Float32);
        using (no_grad())
        {
            foreach (var (target, source) in model.parameters().Zip(trained.parameters()))
                target.copy_(source.to(ScalarType.Float32));
        }
        return model;
    }

    public static (Tensor X, Tensor Y) Blobs(ScalarType dtype = ScalarType.Float64) => TinyModels.Blobs(48, 3, 3, seed: 7, dtype: dtype);

    public static byte[] Bytes(nn.Module model)
    {
        using var scope = NewDisposeScope();
        return model.named_parameters().SelectMany(np => np.parameter.detach().contiguous().bytes.ToArray())
            .Concat(model.named_buffers().SelectMany(nb => nb.buffer.detach().contiguous().bytes.ToArray())).ToArray();
    }

    public static EmpiricalRisk Risk(nn.Module<Tensor, Tensor> model, LossFunction loss, Tensor x, Tensor y, ScalarType? dtype = null, int? batchSize = null) =>
        new(model, loss, DataSource.FromTensors(x, y, batchSize), options: new EmpiricalRiskOptions { AnalysisDType = dtype });
}

/// <summary>An IProgress that runs its callback synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
