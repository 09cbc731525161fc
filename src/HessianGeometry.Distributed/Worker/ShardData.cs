using HessianGeometry.Distributed.Grains;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// What one shard grain holds: the worker's model, the shard's rows and one operator per client configuration. Every
/// result is a shard mean (products, gradient) or a shard sum (loss), in the analysis dtype, as raw bytes.
/// </summary>
internal sealed class ShardData : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> model;
    private readonly Tensor x;
    private readonly Tensor y;
    private readonly Dictionary<string, ShardOperator> operators = new(StringComparer.Ordinal);

    private ShardData(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, ShardDescription description)
    {
        this.model = model;
        this.x = x;
        this.y = y;
        Description = description;
    }

    public ShardDescription Description { get; }

    public static ShardData Load(WorkerOptions options, ShardSpec shard, string worker)
    {
        var model = WorkerModel.Load(options.ModelPath, options.Arch);
        try
        {
            using var file = ShardFile.Read(options.DataPath, options.XKey, options.YKey);
            var n = file.Samples;
            var start = shard.Start(n);
            var length = shard.Length(n);
            var (x, y) = file.Rows(start, length, WorkerModel.DTypeOf(model));
            var description = new ShardDescription
            {
                Index = shard.Index,
                Count = shard.Count,
                Start = start,
                Length = length,
                TotalSamples = n,
                ParameterCount = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
                ModelHash = StateHash.Of(model),
                DataHash = file.Hash(start, length),
                Worker = worker,
                DataPath = options.DataPath,
                XKey = options.XKey,
                YKey = options.YKey,
            };
            return new ShardData(model, x, y, description);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public PreparedOperator Prepare(OperatorConfig config)
    {
        if (Description.Length == 0)
            return new PreparedOperator { Dimension = config.ParameterNames.Length == 0 ? 0 : -1, Samples = 0, Worker = Description.Worker };
        var op = OperatorFor(config).Operator;
        return new PreparedOperator
        {
            Dimension = op.Dimension,
            Samples = Description.Length,
            EngineName = op.CurvatureEngine.Name,
            EngineNote = op.EngineNote,
            Worker = Description.Worker,
        };
    }

    public LossSums LossSums(OperatorConfig config)
    {
        if (Description.Length == 0)
            return new LossSums { Classification = true };
        // Sums, not means, so that shards add exactly; the same float64 accumulation as a single-process risk.
        var totals = OperatorFor(config).Risk.LossTotals();
        if (totals.FirstNonFiniteBatch is { } batch)
            throw new ArithmeticException($"The loss on shard {Description.Index}/{Description.Count} (its batch {batch}) is {totals.LossSum}.");
        return new LossSums { LossSum = totals.LossSum, Correct = totals.Correct, Classification = totals.Classification, Samples = Description.Length };
    }

    /// <summary>The shard's mean gradient [p] as raw bytes.</summary>
    public byte[] Gradient(OperatorConfig config)
    {
        if (Description.Length == 0)
            return [];
        using var scope = NewDisposeScope();
        return Payload.ToBytes(OperatorFor(config).Operator.Gradient());
    }

    /// <summary>The shard's mean product with k rows of p values (raw bytes in, raw bytes out, k rows of p).</summary>
    public byte[] Apply(OperatorConfig config, byte[] rows, int columns)
    {
        if (Description.Length == 0)
            return [];
        var op = OperatorFor(config).Operator;
        using var scope = NewDisposeScope();
        var input = Payload.FromBytes(rows, op.DType, columns, op.Dimension);
        var product = columns == 1 ? op.Apply(input.reshape(op.Dimension)) : op.ApplyBlock(input.T.contiguous()).T.contiguous();
        return Payload.ToBytes(product);
    }

    /// <summary>Disposes the operator built for <paramref name="config"/>; false when there was none.</summary>
    public bool ReleaseOperator(OperatorConfig config)
    {
        if (!operators.Remove(config.Key(), out var op))
            return false;
        op.Dispose();
        return true;
    }

    /// <summary>The shard's per-sample rows for a geometry request (<see cref="ShardGeometry"/>), with the analysis' risk.</summary>
    public (byte[] Bytes, long[] Shape, ScalarType DType, string? Note) Geometry(OperatorConfig config, GeometryRequest request, byte[] directions, CancellationToken cancellationToken) =>
        ShardGeometry.Compute(OperatorFor(config).Risk, x, request, directions, cancellationToken);

    private ShardOperator OperatorFor(OperatorConfig config)
    {
        var key = config.Key();
        if (!operators.TryGetValue(key, out var op))
        {
            op = new ShardOperator(model, x, y, Description.Start, config);
            operators[key] = op;
        }
        return op;
    }

    public void Dispose()
    {
        foreach (var op in operators.Values)
            op.Dispose();
        operators.Clear();
        x.Dispose();
        y.Dispose();
        model.Dispose();
    }
}
