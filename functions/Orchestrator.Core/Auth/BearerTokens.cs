using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Auth;

/// <summary>
/// Checks a bearer token against the admin token and the API keys in constant time (each candidate is compared as a
/// SHA-256 digest, so neither content nor length leaks through timing), and says who the caller is.
/// </summary>
public sealed class BearerTokens
{
    private readonly byte[]? admin;
    private readonly (string Name, byte[] Digest)[] apiKeys;

    public BearerTokens(IOptions<AuthOptions> options)
    {
        var value = options.Value;
        Disabled = value.Disabled;
        admin = string.IsNullOrEmpty(value.AdminToken) ? null : Digest(value.AdminToken);
        apiKeys = value.ApiKeys.Where(k => !string.IsNullOrEmpty(k.Value)).Select(k => (k.Key, Digest(k.Value))).ToArray();
    }

    public bool Disabled { get; }

    /// <summary>The caller a presented token identifies, or null when it matches no configured token.</summary>
    public ClaimsPrincipal? Authenticate(string token)
    {
        var presented = Digest(token);
        string? name = null;
        var role = AuthPolicies.ApiRole;
        // Compare against every candidate (no early exit) so the time taken says nothing about which one matched.
        if (admin is not null && CryptographicOperations.FixedTimeEquals(presented, admin))
        {
            name = "admin-token";
            role = AuthPolicies.AdminRole;
        }

        foreach (var (keyName, digest) in apiKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, digest) && name is null)
            {
                name = "api-key:" + keyName;
            }
        }

        return name is null ? null : Principal(name, role);
    }

    /// <summary>The caller when auth is switched off for local development.</summary>
    public static ClaimsPrincipal LocalDevelopment() => Principal("auth-disabled", AuthPolicies.AdminRole);

    /// <summary>The token of an <c>Authorization: Bearer ...</c> header, or null when there is none.</summary>
    public static string? FromHeader(string? authorization)
    {
        if (string.IsNullOrEmpty(authorization) || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = authorization[7..].Trim();
        return token.Length is 0 or > 4096 ? null : token;
    }

    private static ClaimsPrincipal Principal(string name, string role)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(ClaimTypes.Role, role) };
        if (role == AuthPolicies.AdminRole)
        {
            claims.Add(new Claim(ClaimTypes.Role, AuthPolicies.ApiRole));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthPolicies.Scheme));
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
