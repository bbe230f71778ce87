namespace Orchestrator.Core.Auth;

/// <summary>
/// Bearer tokens: one admin token for <c>/admin/*</c> (and everything else), and named API keys for
/// <c>/api/v1/*</c> and the Durable HTTP API, so keys can be rotated one at a time and the audit log names the key.
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>The admin token (<c>Auth__AdminToken</c>; the runbook's <c>ADMIN_TOKEN</c> is an alias).</summary>
    public string? AdminToken { get; set; }

    /// <summary>API keys by name (<c>Auth__ApiKeys__ci=...</c>); the name is what the audit log records.</summary>
    public Dictionary<string, string> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Local development only: no token is asked for. Honoured only for loopback connections.</summary>
    public bool Disabled { get; set; }

    /// <summary>Shortest token accepted, so a placeholder such as <c>changeme</c> cannot protect a deployment.</summary>
    public const int MinimumTokenLength = 16;

    public bool HasAnyToken => !string.IsNullOrEmpty(AdminToken) || ApiKeys.Values.Any(v => !string.IsNullOrEmpty(v));

    /// <summary>Every configuration problem, each naming its key; empty when the settings can be used.</summary>
    public IEnumerable<string> Problems()
    {
        if (Disabled)
        {
            yield break;
        }

        if (!HasAnyToken)
        {
            yield return "Auth: no token is configured. Set Auth__AdminToken (or ADMIN_TOKEN) and/or Auth__ApiKeys__<name>, " +
                         "or Auth__Disabled=true for local development on a loopback address.";
        }

        if (!string.IsNullOrEmpty(AdminToken) && AdminToken.Length < MinimumTokenLength)
        {
            yield return $"Auth:AdminToken must be at least {MinimumTokenLength} characters.";
        }

        foreach (var (name, key) in ApiKeys)
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_.-]{1,64}$"))
            {
                yield return $"Auth:ApiKeys:{name}: a key's name must be 1-64 letters, digits, '.', '_' or '-'.";
            }

            // An empty key is an unset one (a sample entry, a Key Vault secret not created): it opens nothing.
            if (!string.IsNullOrEmpty(key) && key.Length < MinimumTokenLength)
            {
                yield return $"Auth:ApiKeys:{name} must be at least {MinimumTokenLength} characters.";
            }

            if (!string.IsNullOrEmpty(AdminToken) && key == AdminToken)
            {
                yield return $"Auth:ApiKeys:{name} equals the admin token; give API keys their own values.";
            }
        }
    }
}
