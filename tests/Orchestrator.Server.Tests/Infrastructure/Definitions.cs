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

    /// <summary>One LLM step and then an approval that waits (for an hour) for <c>approve</c>: a run that stays Running.</summary>
    public static JsonObject Waiting(string tag) => new()
    {
        ["name"] = $"waiting-{tag}",
        ["version"] = 1,
        ["steps"] = new JsonArray
        {
            new JsonObject { ["id"] = "s1", ["type"] = "llm", ["prompt"] = $"STEP1-{tag} {{{{ input.text }}}}" },
            new JsonObject { ["id"] = "approve", ["type"] = "approval", ["event"] = "approve", ["timeout"] = "1h", ["onTimeout"] = "fail" },
        },
    };

    /// <summary>A one-step chain named <paramref name="name"/>, so a test can find its own runs in the list.</summary>
    public static JsonObject Named(string name, string tag)
    {
        var definition = Chain(tag, 1);
        definition["name"] = name;
        return definition;
    }
}
