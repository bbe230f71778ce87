using System.Text.Json.Nodes;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Inline definitions whose prompts carry a per-test tag, so one fake LLM can serve many tests.</summary>
public static class Definitions
{
    /// <summary>A chain of <paramref name="steps"/> LLM steps; step n's prompt contains <c>STEP{n}-{tag}</c> and step n-1's output.</summary>
    public static JsonObject Chain(string tag, int steps, JsonObject? retry = null)
    {
        var list = new JsonArray();
        for (var i = 1; i <= steps; i++)
        {
            var prompt = i == 1
                ? $"STEP1-{tag} Summarize: {{{{ input.text }}}}"
                : $"STEP{i}-{tag} Continue from: {{{{ steps.s{i - 1}.output }}}}";
            var step = new JsonObject { ["id"] = $"s{i}", ["type"] = "llm", ["prompt"] = prompt };
            if (retry is not null)
            {
                step["retry"] = retry.DeepClone();
            }

            list.Add(step);
        }

        return new JsonObject
        {
            ["name"] = $"chain-{steps}",
            ["version"] = 1,
            ["input"] = new JsonObject { ["type"] = "object", ["required"] = new JsonArray("text"), ["properties"] = new JsonObject { ["text"] = new JsonObject { ["type"] = "string" } } },
            ["steps"] = list,
        };
    }

    public static string Tag() => Guid.NewGuid().ToString("N")[..8];
}
