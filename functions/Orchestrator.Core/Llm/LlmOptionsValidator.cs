using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Llm;

/// <summary>
/// Checks every provider at start (the top-level one and each under <c>Llm:Providers</c>), naming the key of each
/// bad setting: an unknown kind, a missing endpoint or credential, a malformed URL, a price or limit out of range.
/// </summary>
public sealed partial class LlmOptionsValidator : IValidateOptions<LlmOptions>
{
    private static readonly string[] Kinds = [LlmOptions.OpenAi, LlmOptions.AzureOpenAi, LlmOptions.Simulated];

    public ValidateOptionsResult Validate(string? name, LlmOptions options)
    {
        var failures = new List<string>();
        if (!Kinds.Contains(options.EffectiveProvider))
        {
            failures.Add($"{LlmOptions.SectionName}:Provider: '{options.Provider}' is not one of {string.Join(", ", Kinds)}.");
        }

        Annotations(options.Chaos, $"{LlmOptions.SectionName}:Chaos", failures);
        foreach (var (model, price) in options.Models)
        {
            Annotations(price, $"{LlmOptions.SectionName}:Models:{model}", failures);
        }

        foreach (var (providerName, provider) in options.Providers)
        {
            var key = $"{LlmOptions.SectionName}:Providers:{providerName}";
            if (!ProviderName().IsMatch(providerName))
            {
                failures.Add($"{key}: a provider name is 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.");
            }

            var kind = provider.Kind.Trim().ToLowerInvariant();
            if (!Kinds.Contains(kind))
            {
                failures.Add($"{key}:Kind: '{provider.Kind}' is not one of {string.Join(", ", Kinds)}.");
            }

            Annotations(provider, key, failures);
            Annotations(provider.Chaos, $"{key}:Chaos", failures);
            Annotations(provider.Breaker, $"{key}:Breaker", failures);
            foreach (var (model, price) in provider.Models)
            {
                Annotations(price, $"{key}:Models:{model}", failures);
            }
        }

        foreach (var provider in failures.Count == 0 ? options.ResolveProviders().Values : [])
        {
            var key = provider.Name == LlmOptions.DefaultProviderName && !options.Providers.ContainsKey(provider.Name)
                ? LlmOptions.SectionName
                : $"{LlmOptions.SectionName}:Providers:{provider.Name}";
            Endpoint(provider, key, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Endpoint(LlmProviderSettings provider, string key, List<string> failures)
    {
        if (provider.Kind == LlmOptions.Simulated)
        {
            return;
        }

        if (provider.Endpoint is { Length: > 0 } endpoint
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            failures.Add($"{key}:Endpoint: '{endpoint}' is not an absolute http(s) URL.");
        }

        if (provider.Kind == LlmOptions.AzureOpenAi)
        {
            if (string.IsNullOrWhiteSpace(provider.Endpoint))
            {
                failures.Add($"{key}:Endpoint: an azure-openai provider needs its resource endpoint (https://NAME.openai.azure.com).");
            }

            if (string.IsNullOrWhiteSpace(provider.ApiKey) && !provider.UseManagedIdentity)
            {
                failures.Add($"{key}:ApiKey: an azure-openai provider needs an API key or UseManagedIdentity=true.");
            }
        }
    }

    private static void Annotations(object settings, string key, List<string> failures)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true);
        failures.AddRange(results.Select(r => $"{key}:{string.Join(", ", r.MemberNames)}: {r.ErrorMessage}"));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex ProviderName();
}
