using HessianGeometry.Operators;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>What a plan runs on besides its options: the model, loss and data (not serialisable), a logger, a label and, for a distributed analysis, where the operator comes from.</summary>
internal sealed record AnalysisRun(
    nn.Module<Tensor, Tensor> Model,
    LossFunction Loss,
    DataSource Data,
    AnalysisOptions Options,
    ILogger? Logger,
    string? Label,
    ICurvatureOperatorFactory? OperatorFactory = null);
