using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Loopback ports for a database that is not there.</summary>
internal static class Ports
{
    /// <summary>A port nothing listens on (it was free a moment ago): connections to it are refused.</summary>
    public static int Closed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
