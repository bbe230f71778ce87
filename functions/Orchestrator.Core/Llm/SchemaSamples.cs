using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Core.Llm;

/// <summary>
/// Makes a JSON value that satisfies a (common subset of) JSON Schema, deterministically from a seed: what the
/// simulated provider answers when a step asks for structured output.
/// </summary>
public static class SchemaSamples
{
    public static JsonNode? Generate(JsonElement schema, string seed) => Generate(schema, seed, "$", 0);

    private static JsonNode? Generate(JsonElement schema, string seed, string path, int depth)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > 8)
        {
            return null;
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return JsonNode.Parse(constant.GetRawText());
        }

        if (schema.TryGetProperty("enum", out var values) && values.GetArrayLength() > 0)
        {
            return JsonNode.Parse(values[Pick(seed, path, values.GetArrayLength())].GetRawText());
        }

        foreach (var combinator in new[] { "anyOf", "oneOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options) && options.GetArrayLength() > 0)
            {
                return Generate(options[0], seed, path, depth + 1);
            }
        }

        return TypeOf(schema) switch
        {
            "object" => Object(schema, seed, path, depth),
            "array" => Array(schema, seed, path, depth),
            "string" => JsonValue.Create(String(schema, path)),
            "integer" => JsonValue.Create((long)Number(schema, integer: true)),
            "number" => JsonValue.Create(Number(schema, integer: false)),
            "boolean" => JsonValue.Create(Pick(seed, path, 2) == 0),
            _ => null,
        };
    }

    private static string? TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : schema.TryGetProperty("items", out _) ? "array" : null;
        }

        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null") ?? "null"
            : type.GetString();
    }

    private static JsonObject Object(JsonElement schema, string seed, string path, int depth)
    {
        var result = new JsonObject();
        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                result[property.Name] = Generate(property.Value, seed, $"{path}.{property.Name}", depth + 1);
            }
        }

        return result;
    }

    private static JsonArray Array(JsonElement schema, string seed, string path, int depth)
    {
        var count = schema.TryGetProperty("minItems", out var min) ? Math.Max(1, min.GetInt32()) : 1;
        var items = schema.TryGetProperty("items", out var itemSchema) ? itemSchema : default;
        return new JsonArray(Enumerable.Range(0, Math.Min(count, 3)).Select(i => Generate(items, seed, $"{path}[{i}]", depth + 1)).ToArray());
    }

    private static string String(JsonElement schema, string path)
    {
        if (schema.TryGetProperty("format", out var format))
        {
            switch (format.GetString())
            {
                case "date": return "2026-01-01";
                case "date-time": return "2026-01-01T00:00:00Z";
                case "email": return "someone@example.com";
                case "uri": return "https://example.com/";
            }
        }

        var text = $"simulated {path.TrimStart('$', '.')}".Trim();
        var minLength = schema.TryGetProperty("minLength", out var m) ? m.GetInt32() : 0;
        return text.PadRight(minLength, '.');
    }

    private static double Number(JsonElement schema, bool integer)
    {
        // Without bounds, a small fraction: it also satisfies the common 0..1 (confidence) and 0..100 ranges
        // when a provider's schema translation dropped the bounds.
        var min = schema.TryGetProperty("minimum", out var lo) ? lo.GetDouble() : 0;
        var max = schema.TryGetProperty("maximum", out var hi) ? hi.GetDouble() : min + 1;
        var value = integer ? Math.Ceiling(min) : min + ((max - min) * 0.75);
        return Math.Min(value, max);
    }

    private static int Pick(string seed, string path, int count) =>
        (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(seed + "|" + path)), 0) % (uint)count);
}
