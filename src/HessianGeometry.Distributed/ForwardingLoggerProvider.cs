using Microsoft.Extensions.Logging;

namespace HessianGeometry.Distributed;

/// <summary>Sends every category of a host's logging to one caller-supplied logger.</summary>
internal sealed class ForwardingLoggerProvider(ILogger target) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => target;

    public void Dispose()
    {
    }
}
