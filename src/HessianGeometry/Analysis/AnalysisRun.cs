using HessianGeometry.Operators;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>What a plan runs on besides its options: the model, loss and data (not serialisable), a logger and a label.</summary>
internal sealed record AnalysisRun(
    nn.Module<Tensor, Tensor> Model,
    LossFunction Loss,
    DataSource Data,
    AnalysisOptions Options,
    ILogger? Logger,
    string? Label);
