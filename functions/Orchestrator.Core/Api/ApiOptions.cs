using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Api;

/// <summary>Limits of the HTTP API.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest accepted request body; larger ones get <c>413</c>.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 1024 * 1024;
}
