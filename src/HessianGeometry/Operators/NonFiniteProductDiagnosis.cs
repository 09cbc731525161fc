using HessianGeometry.Operators.Engines;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>Batch by batch, which part of a non-finite curvature product first stops being finite.</summary>
internal static class NonFiniteProductDiagnosis
{
    /// <summary>The input vector, a batch's loss or gradient, or its second derivative; null when every part is finite.</summary>
    public static string? Locate(EmpiricalRisk risk, ICurvatureEngine engine, Tensor input)
    {
        using var scope = NewDisposeScope();
        if (!isfinite(input).all().item<bool>())
            return "the input vector itself contains NaN or Inf. Pass a finite vector.";
        var block = input.dim() == 1 ? input.unsqueeze(1) : input;
        string? found = null;
        risk.ForEachBatch(batch =>
        {
            var batchLoss = risk.BatchLoss(batch);
            var grads = risk.ParameterGradients(batchLoss, createGraph: false);
            if (grads.Any(g => !isfinite(g).all().item<bool>()))
            {
                found = risk.DescribeNonFiniteGradient(batch.Index, batchLoss, grads);
                return false;
            }
            var curvature = engine.Prepare(batch);
            var k = block.shape[1];
            for (var j = 0; j < k; j++)
            {
                if (!isfinite(curvature.Product(block[.., j].contiguous(), keep: j < k - 1)).all().item<bool>())
                {
                    found = $"the second derivative on batch {batch.Index} is NaN or Inf although its loss and gradient are finite. " +
                        "The model has a point where its curvature is undefined or overflows (sqrt or abs at 0, float32 overflow): " +
                        "analyse in float64 (LossHessianOptions.AnalysisDType) or change the offending layer.";
                    return false;
                }
            }
            return true;
        });
        return found;
    }
}
