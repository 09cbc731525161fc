using System.Globalization;

namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// Everything a worker needs to build its shard's operator exactly as the client's analysis would build it over all the
/// data: loss, matrix, precision, parameter selection (by name, in flat-vector order), batch size and engine options.
/// Sent with every call, so that a worker that takes over a shard after a failure builds the same operator.
/// </summary>
[GenerateSerializer]
internal sealed record OperatorConfig
{
    [Id(0)] public int LossKind { get; init; }
    [Id(1)] public int CurvatureKind { get; init; }
    [Id(2)] public int GraphMode { get; init; }
    [Id(3)] public int Engine { get; init; }
    [Id(4)] public int FisherSamples { get; init; } = 1;
    [Id(5)] public long Seed { get; init; }
    [Id(6)] public bool CheckDeterministic { get; init; }
    [Id(7)] public bool Float64 { get; init; } = true;
    [Id(8)] public int? BatchSize { get; init; }
    [Id(9)] public string[] ParameterNames { get; init; } = [];
    [Id(10)] public bool AllowTrainingMode { get; init; }

    /// <summary>
    /// The client operator this configuration belongs to. Worker operators keep state between products (cached batches,
    /// and a Jacobian sandwich materialises J after enough products, which changes the last bits), so each client
    /// operator gets its own worker operators, fresh like a single-process operator, and releases them when disposed.
    /// </summary>
    [Id(11)] public Guid Instance { get; init; }

    /// <summary>A key naming this configuration (the worker keeps one operator per key).</summary>
    public string Key() => string.Create(CultureInfo.InvariantCulture,
        $"{Instance:N}|{LossKind}|{CurvatureKind}|{GraphMode}|{Engine}|{FisherSamples}|{Seed}|{CheckDeterministic}|{Float64}|{BatchSize}|{AllowTrainingMode}|{string.Join(',', ParameterNames)}");
}
