using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HessianGeometry.Cli.Distributed;

/// <summary>
/// Parses the <c>HOST:PORT</c> addresses of <c>worker --primary</c> and <c>analyze --cluster</c>. Host names are resolved
/// here, once, so that a typo fails before any Orleans component starts (whose own error would be a connection timeout).
/// </summary>
internal static class Endpoints
{
    /// <summary>A comma-separated list of <c>HOST:PORT</c>; duplicates are refused (a gateway named twice is one gateway).</summary>
    public static IReadOnlyList<IPEndPoint> ParseList(string text, string option)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0)
            throw new ArgumentException($"{option} needs at least one HOST:PORT address (e.g. {option} 127.0.0.1:30000,127.0.0.1:30001) but was '{text}'.");
        var endpoints = items.Select(item => Parse(item, option)).ToList();
        var duplicate = endpoints.GroupBy(e => e).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{option} names {duplicate.Key} more than once; list each gateway once.");
        return endpoints;
    }

    /// <summary>One <c>HOST:PORT</c>: an IPv4 address, a bracketed IPv6 address (<c>[::1]:30000</c>) or a host name.</summary>
    public static IPEndPoint Parse(string text, string option)
    {
        var trimmed = text.Trim();
        var colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || colon == trimmed.Length - 1)
            throw new ArgumentException($"{option} '{text}' is not HOST:PORT; write e.g. 127.0.0.1:30000 or [::1]:30000.");
        var host = trimmed[..colon];
        var portText = trimmed[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"{option} '{text}' has port '{portText}'; a port is a number from 1 to 65535.");
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        else if (host.Contains(':', StringComparison.Ordinal))
            throw new ArgumentException($"{option} '{text}': put an IPv6 address in brackets, e.g. [::1]:{port}.");
        return new IPEndPoint(Resolve(host, option), port);
    }

    /// <summary>An address literal as is; a host name resolved, preferring IPv4 (Orleans' silos listen on one address).</summary>
    private static IPAddress Resolve(string host, string option)
    {
        if (IPAddress.TryParse(host, out var address))
            return address;
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException ex)
        {
            throw new ArgumentException($"{option}: the host '{host}' could not be resolved ({ex.Message}). Pass an IP address or a resolvable host name.", ex);
        }
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new ArgumentException($"{option}: the host '{host}' resolved to no address. Pass an IP address.");
    }
}
