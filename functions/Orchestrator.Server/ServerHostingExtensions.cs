namespace Orchestrator.Server;

/// <summary>Host-level defaults of the Server.</summary>
public static class ServerHostingExtensions
{
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
}
