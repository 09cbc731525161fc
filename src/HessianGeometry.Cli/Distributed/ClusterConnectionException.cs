namespace HessianGeometry.Cli.Distributed;

/// <summary>No worker answered at the <c>--cluster</c> gateways (exit 1: the arguments may be right and the workers down).</summary>
internal sealed class ClusterConnectionException : Exception
{
    public ClusterConnectionException()
    {
    }

    public ClusterConnectionException(string message)
        : base(message)
    {
    }

    public ClusterConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
