using System.Net;
using System.Net.Sockets;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>Ports nothing listens on right now (the OS picks them), so parallel test runs do not collide on fixed ports.</summary>
internal static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners)
                listener.Start();
            // Held together until all are chosen, so the OS cannot hand out one port twice.
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
                listener.Stop();
        }
    }
}
