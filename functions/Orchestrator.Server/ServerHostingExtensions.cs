using System.Net;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Server;

/// <summary>Host-level defaults and start-up checks of the Server.</summary>
public static class ServerHostingExtensions
{
    private const string DefaultHost = "localhost";
    public const int MaxRequestLineBytes = 16 * 1024;

    /// <summary>Listens on <paramref name="port"/> unless <c>--urls</c>, <c>ASPNETCORE_URLS</c> or <c>HTTP_PORTS</c> say otherwise.</summary>
    public static WebApplicationBuilder UseDefaultServerPort(this WebApplicationBuilder builder, int port)
    {
        var configured = builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? builder.Configuration["HTTP_PORTS"] ?? builder.Configuration["HTTPS_PORTS"];
        if (string.IsNullOrWhiteSpace(configured))
        {
            builder.WebHost.UseUrls($"http://{DefaultHost}:{port}");
        }

        return builder;
    }

    /// <summary>
    /// <c>Auth__Disabled=true</c> is for a developer's machine: the Server refuses to start with it unless every
    /// address it listens on is a loopback one (and even then, requests from elsewhere are refused).
    /// </summary>
    public static WebApplicationBuilder RefuseAuthOffUnlessLoopback(this WebApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue<bool>($"{AuthOptions.SectionName}:{nameof(AuthOptions.Disabled)}"))
        {
            return builder;
        }

        var exposed = ListenAddresses(builder).Where(url => !IsLoopback(url)).ToList();
        if (exposed.Count > 0)
        {
            throw new InvalidConfigurationException(
                $"Auth:Disabled is true but the Server would listen on {string.Join(", ", exposed)}. Switching authentication off is " +
                "allowed only on loopback addresses (e.g. ASPNETCORE_URLS=http://127.0.0.1:8080); otherwise set Auth__AdminToken / Auth__ApiKeys__<name>.");
        }

        return builder;
    }

    private static IEnumerable<string> ListenAddresses(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey) ?? configuration[WebHostDefaults.ServerUrlsKey];
        foreach (var url in (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            yield return url;
        }

        foreach (var key in new[] { "HTTP_PORTS", "HTTPS_PORTS" })
        {
            foreach (var p in (configuration[key] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return $"http://*:{p}";
            }
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                yield return url;
            }
        }
    }

    private static bool IsLoopback(string url)
    {
        var hostStart = url.IndexOf("://", StringComparison.Ordinal) is var i and >= 0 ? i + 3 : 0;
        var rest = url[hostStart..];
        var host = rest.StartsWith('[') ? rest[1..Math.Max(1, rest.IndexOf(']', StringComparison.Ordinal))] : rest.Split(':', '/')[0];
        return host.Equals(DefaultHost, StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>
    /// Lets a request line of up to 16 KiB (Kestrel's default is 8 KiB) reach the routes, so an absurd id or query
    /// value is answered by their validation with a problem naming it; longer lines still get Kestrel's bare 414.
    /// </summary>
    public static WebApplicationBuilder UseRequestLineLimit(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestLineSize = MaxRequestLineBytes);
        return builder;
    }
}
