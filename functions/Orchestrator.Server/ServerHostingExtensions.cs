namespace Orchestrator.Server;

/// <summary>Host-level defaults of the Server.</summary>
public static class ServerHostingExtensions
{
    public const int MaxRequestLineBytes = 16 * 1024;

    /// <summary>Listens on <paramref name="port"/> unless <c>--urls</c>, <c>ASPNETCORE_URLS</c> or <c>HTTP_PORTS</c> say otherwise.</summary>
    public static WebApplicationBuilder UseDefaultServerPort(this WebApplicationBuilder builder, int port)
    {
        var configured = builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? builder.Configuration["HTTP_PORTS"] ?? builder.Configuration["HTTPS_PORTS"];
        if (string.IsNullOrWhiteSpace(configured))
        {
            builder.WebHost.UseUrls($"http://localhost:{port}");
        }

        return builder;
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
