using HessianGeometry.Operators;
using HessianGeometry.Testing;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

/// <summary>Independent references for the spectrum tests: MathNet eigenvalues and dense Hessians of tiny models.</summary>
internal static class SpectrumReference
{
    /// <summary>Eigenvalues of a symmetric matrix by MathNet's dense symmetric eigen-decomposition, ascending.</summary>
    public static double[] Eigenvalues(Tensor matrix)
    {
        using var scope = NewDisposeScope();
        var a = matrix.to(ScalarType.Float64).cpu().contiguous();
        var p = (int)a.shape[0];
        var data = a.data<double>().ToArray();
        var m = Matrix<double>.Build.Dense(p, p, (i, j) => data[i * p + j]);
        return m.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).OrderBy(x => x).ToArray();
    }

    /// <summary>Dense float64 Hessians of the tiny models used across the suite (softmax regression, MLPs, least squares).</summary>
    public static IEnumerable<(string Name, Tensor Hessian)> TinyModelHessians()
    {
        {
            var (x, y) = TinyModels.Blobs(60, 3, 4, seed: 1);
            var model = TinyModels.Mlp([3, 4], "relu", seed: 2);
            using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
            yield return ("softmax regression", ExactHessian.Compute(op));
        }
        {
            var (x, y) = TinyModels.Blobs(50, 3, 3, seed: 5);
            var model = TinyModels.Mlp([3, 6, 3], "tanh", seed: 6);
            using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize: 16));
            yield return ("tanh MLP, cross-entropy", ExactHessian.Compute(op));
        }
        {
            var (x, y) = TinyModels.Blobs(40, 2, 3, seed: 8);
            var model = TinyModels.Mlp([2, 5, 4, 3], "gelu", seed: 9);
            using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
            yield return ("gelu MLP, cross-entropy", ExactHessian.Compute(op));
        }
        {
            var g = new Generator(3);
            var x = randn(40, 5, dtype: ScalarType.Float64, generator: g);
            var y = randn(40, 1, dtype: ScalarType.Float64, generator: g);
            torch.manual_seed(4);
            var model = nn.Sequential(("0", nn.Linear(5, 1, hasBias: false, dtype: ScalarType.Float64)));
            using var op = new LossHessianOperator(model, LossFunction.MeanSquaredError, DataSource.FromTensors(x, y));
            yield return ("least squares", ExactHessian.Compute(op));
        }
    }

    /// <summary>Uniform values in [low, high] from a seeded System.Random.</summary>
    public static double[] Uniform(int count, double low, double high, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => low + (high - low) * rng.NextDouble()).ToArray();
    }
}
