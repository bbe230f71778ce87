using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>Reads <c>"name"</c> or <c>["a", {"name": "b", "model": "m"}]</c>; writes a single plain provider back as a string.</summary>
public sealed class ProviderChainJsonConverter : JsonConverter<ProviderChain>
{
    public override ProviderChain Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return ProviderChain.Of(reader.GetString()!);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("provider must be a provider name or a list of them");
        }

        var choices = new List<ProviderChoice>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            choices.Add(reader.TokenType switch
            {
                JsonTokenType.String => new ProviderChoice(reader.GetString()!),
                JsonTokenType.StartObject => ReadChoice(ref reader),
                _ => throw new JsonException("each entry of a provider chain is a provider name or { name, model }"),
            });
        }

        return new ProviderChain(choices);
    }

    public override void Write(Utf8JsonWriter writer, ProviderChain value, JsonSerializerOptions options)
    {
        if (value.Choices is [{ Model: null } only])
        {
            writer.WriteStringValue(only.Name);
            return;
        }

        writer.WriteStartArray();
        foreach (var choice in value.Choices)
        {
            if (choice.Model is null)
            {
                writer.WriteStringValue(choice.Name);
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("name", choice.Name);
            writer.WriteString("model", choice.Model);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static ProviderChoice ReadChoice(ref Utf8JsonReader reader)
    {
        string? name = null;
        string? model = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "name":
                    name = reader.GetString();
                    break;
                case "model":
                    model = reader.GetString();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new ProviderChoice(name ?? throw new JsonException("a provider chain entry needs a name"), model);
    }
}
