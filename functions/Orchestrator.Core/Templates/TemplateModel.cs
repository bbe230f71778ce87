using System.Text.Json.Nodes;

namespace Orchestrator.Core.Templates;

/// <summary>The variables a template sees (<c>input</c>, <c>steps</c>, <c>run</c>, <c>item</c>, <c>index</c>) and the clock it is given.</summary>
public sealed record TemplateModel(IReadOnlyDictionary<string, JsonNode?> Variables, DateTimeOffset Now);
