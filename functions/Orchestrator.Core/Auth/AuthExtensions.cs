using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Auth;

/// <summary>Registers bearer-token authentication and the API's two policies.</summary>
public static class AuthExtensions
{
    public static IServiceCollection AddOrchestratorAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.SectionName)
            .PostConfigure(options =>
            {
                // The runbook's commands use $ADMIN_TOKEN; it is an alias of Auth__AdminToken.
                if (string.IsNullOrEmpty(options.AdminToken) && configuration["ADMIN_TOKEN"] is { Length: > 0 } token)
                {
                    options.AdminToken = token;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<BearerTokens>();
        services.AddAuthentication(AuthPolicies.Scheme)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(AuthPolicies.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(AuthPolicies.AdminRole))
            .AddPolicy(AuthPolicies.Api, policy => policy.RequireAuthenticatedUser().RequireRole(AuthPolicies.ApiRole, AuthPolicies.AdminRole));
        return services;
    }

    /// <summary>Names every bad key at start, not only that something is wrong.</summary>
    private sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
    {
        public ValidateOptionsResult Validate(string? name, AuthOptions options)
        {
            var problems = options.Problems().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
