using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>The shipped sample definitions, read from the repository (tests may shorten their timeouts).</summary>
public static class Samples
{
    public static JsonObject Load(string name)
    {
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "functions", "Orchestrator.Core", "Samples", name + ".yaml");
        return DefinitionDocuments.Parse(File.ReadAllText(path), path)!.AsObject();
    }
}
