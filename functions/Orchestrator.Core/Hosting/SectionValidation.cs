using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Hosting;

/// <summary>Data-annotation validation whose failures name the configuration key (<c>Postgres:MaxPoolSize</c>), not only the property.</summary>
public static class SectionValidation
{
    /// <summary>Validates the data annotations of <typeparamref name="T"/>; each failure starts with <c>{sectionName}:{Property}</c>.</summary>
    public static OptionsBuilder<T> ValidateDataAnnotations<T>(this OptionsBuilder<T> builder, string sectionName)
        where T : class
    {
        builder.Services.AddSingleton<IValidateOptions<T>>(new SectionValidator<T>(builder.Name, sectionName));
        return builder;
    }

    /// <summary>Throws the same failures now, for settings that are read before the host exists (logging).</summary>
    public static void ThrowIfInvalid<T>(T options, string sectionName)
        where T : class
    {
        var failures = Failures(options, sectionName);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(sectionName, typeof(T), failures);
        }
    }

    private static List<string> Failures(object options, string sectionName)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results
            .Select(r => r.MemberNames.Any()
                ? $"{string.Join(", ", r.MemberNames.Select(member => $"{sectionName}:{member}"))}: {r.ErrorMessage}"
                : $"{sectionName}: {r.ErrorMessage}")
            .ToList();
    }

    private sealed class SectionValidator<T>(string? name, string sectionName) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
        {
            if (name is not null && name != optionsName)
            {
                return ValidateOptionsResult.Skip;
            }

            var failures = Failures(options, sectionName);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
