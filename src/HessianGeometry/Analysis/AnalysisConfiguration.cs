using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>The frozen configuration behind a <see cref="HessianAnalysisPlan"/>.</summary>
internal sealed record AnalysisConfiguration(
    nn.Module<Tensor, Tensor> Model,
    LossFunction Loss,
    DataSource Data,
    Func<string, bool>? ParameterFilter,
    IEigenSolver? Solver,
    AnalysisSettings Settings,
    TraceOptions? Trace,
    SpectralDensityOptions? Density,
    HesdOptions? Hesd,
    AlignmentOptions? Alignment,
    bool Complexity,
    int EpsilonDirections,
    MarginOptions? Margin,
    ScalarType? Precision,
    HessianGraphMode GraphMode,
    bool SwitchToEval,
    bool? Exact,
    long ExactBudgetBytes,
    ILogger? Logger,
    string? Label,
    bool CheckDeterminism = true,
    HvpEngine Engine = HvpEngine.Auto);
