using System.Runtime.CompilerServices;
using DurableTask.Core.History;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Orchestrator.Server.Durable;

/// <summary>
/// Turns the history JSON of <c>AzureStorageOrchestrationService.GetOrchestrationHistoryAsync</c> (Newtonsoft,
/// no type names, <c>EventType</c> as a number) back into DurableTask.Core's typed history events.
/// </summary>
internal static class HistoryJson
{
    // Every concrete event type, keyed by the EventType it reports (as the Azure Storage tracking store does).
    private static readonly Dictionary<EventType, Type> EventTypes = typeof(HistoryEvent).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(HistoryEvent)))
        .ToDictionary(t => ((HistoryEvent)RuntimeHelpers.GetUninitializedObject(t)).EventType);

    // Several events have only non-public parameterless constructors, and private setters marked [DataMember].
    private static readonly JsonSerializer Serializer = JsonSerializer.Create(new JsonSerializerSettings
    {
        ConstructorHandling = ConstructorHandling.AllowNonPublicDefaultConstructor,
        DateTimeZoneHandling = DateTimeZoneHandling.Utc,
    });

    public static IList<HistoryEvent> Read(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        var events = new List<HistoryEvent>();
        foreach (var item in JArray.Parse(json).OfType<JObject>())
        {
            if (item["EventType"]?.Type == JTokenType.Integer && EventTypes.TryGetValue((EventType)item["EventType"]!.Value<int>(), out var type))
            {
                events.Add((HistoryEvent)item.ToObject(type, Serializer)!);
            }
        }

        return events;
    }
}
