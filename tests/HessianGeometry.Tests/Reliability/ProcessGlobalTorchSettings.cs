using Xunit;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// Tests that set libtorch's process-global backend flags run alone: a test elsewhere holding a
/// <see cref="ConvolutionBackendScope"/> would change what these tests read back.
/// </summary>
[CollectionDefinition(nameof(ProcessGlobalTorchSettings), DisableParallelization = true)]
public sealed class ProcessGlobalTorchSettings
{
}
