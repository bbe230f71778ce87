using Microsoft.AspNetCore.Http;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Api;

/// <summary>The definition registry over HTTP: <c>GET /api/v1/definitions</c> and <c>GET /api/v1/definitions/{name}</c>.</summary>
public sealed class DefinitionHttpHandlers(DefinitionRegistry registry)
{
    public const string DefinitionsRoute = "v1/definitions";

    public IResult List() => TypedResults.Ok(new
    {
        definitions = registry.All
            .GroupBy(d => d.Definition.Name)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new
            {
                name = g.Key,
                latestVersion = g.Max(d => d.Definition.Version),
                versions = g.Select(d => d.Definition.Version).Order().ToList(),
                description = g.MaxBy(d => d.Definition.Version)!.Definition.Description,
                steps = g.MaxBy(d => d.Definition.Version)!.Definition.Steps.Select(s => new { id = s.Id, type = s.Type }).ToList(),
            })
            .ToList(),
    });

    /// <summary>The definition named <c>name</c> (latest version) or <c>name@version</c>, exactly as runs copy it.</summary>
    public IResult Get(string name)
    {
        if (RouteValues.CheckDefinitionReference(name) is { } invalid)
        {
            return invalid;
        }

        var found = registry.Find(name);
        return found is null
            ? TypedResults.Problem(
                title: "The definition does not exist.",
                detail: $"No definition '{name}' is registered{Suggestions.Hint(name.Split('@')[0], registry.Names)}.",
                statusCode: StatusCodes.Status404NotFound,
                type: "https://llm-orchestrator.dev/problems/not-found")
            : TypedResults.Json(found.ToJson());
    }
}
