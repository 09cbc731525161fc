using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// Switches the class's jobs to <see cref="RunStrategy.Monitoring"/>: no pilot stage and no overhead evaluation, one
/// invocation per iteration. For operations that take seconds to minutes (a 10,703² eigendecomposition), where the
/// throughput machinery would only repeat them.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class MonitoringStrategyAttribute() : JobMutatorConfigBaseAttribute(Job.Default.WithStrategy(RunStrategy.Monitoring));
