using Xunit;

// One test at a time. TorchSharp 0.107 lets the GC finalize an implicitly converted Scalar (`t * 2.5`, `t.pow(1.5)`)
// while the native call that received its handle still runs (no GC.KeepAlive; upstream PR #1434). A collection needs
// an allocation on another managed thread during that call, which parallel test classes supply: the full suite then
// failed now and then with c10 Scalar checks or silently wrong products. The library's own hot paths hold their
// Scalars (Internal/ScalarMath); test models and TorchSharp's internals do not.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
