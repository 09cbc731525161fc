namespace HessianGeometry.Benchmarks;

/// <summary>Anchors assembly scanning for the benchmark switcher.</summary>
public sealed class BenchmarkMarker;
