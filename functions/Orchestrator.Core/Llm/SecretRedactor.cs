using System.Text.RegularExpressions;

namespace Orchestrator.Core.Llm;

/// <summary>
/// Removes credentials from text that leaves the gateway (exception messages, logs, step records): every configured
/// key verbatim, and anything shaped like a bearer token or an OpenAI-style key that a provider echoes back.
/// </summary>
public sealed partial class SecretRedactor(IEnumerable<string> secrets)
{
    public const string Mask = "[redacted]";

    private readonly string[] secrets = secrets.Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();

    public string Redact(string text)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return KeyShaped().Replace(text, Mask);
    }

    // "sk-…" keys (also the partially masked "sk-abc***xyz" that OpenAI echoes), "Bearer …", "api-key: …".
    [GeneratedRegex(@"\bsk-[A-Za-z0-9_*\-]{6,}|(?i:\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}|(?i:\bapi[-_]?key[""']?\s*[:=]\s*[""']?)[A-Za-z0-9._\-]{8,}")]
    private static partial Regex KeyShaped();
}
