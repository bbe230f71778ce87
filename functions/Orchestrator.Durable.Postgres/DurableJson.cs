using DurableTask.Core;
using DurableTask.Core.History;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace Orchestrator.Durable.Postgres;

/// <summary>
/// DurableTask.Core's messages and history events as JSON, with type names so each event comes back as its own type.
/// Only DurableTask.Core's types and the base library's collections may be named, so a row altered in the database
/// cannot make the worker instantiate anything else. The history JSON also carries <c>EventType</c> as a number, as
/// the Azure Storage provider's does, so one reader serves both backends.
/// </summary>
internal static class DurableJson
{
    private static readonly JsonSerializerSettings Settings = new()
    {
        TypeNameHandling = TypeNameHandling.Objects,
        SerializationBinder = new CoreTypesOnly(),
        ConstructorHandling = ConstructorHandling.AllowNonPublicDefaultConstructor,
        DateTimeZoneHandling = DateTimeZoneHandling.Utc,
        NullValueHandling = NullValueHandling.Ignore,
    };

    public static string Write(TaskMessage message) => JsonConvert.SerializeObject(message, Settings);

    public static string Write(HistoryEvent historyEvent) => JsonConvert.SerializeObject(historyEvent, Settings);

    public static string? Write(FailureDetails? failure) => failure is null ? null : JsonConvert.SerializeObject(failure, Settings);

    public static string? Write(ParentInstance? parent) => parent is null ? null : JsonConvert.SerializeObject(parent, Settings);

    public static string? Write(IDictionary<string, string>? tags) => tags is null || tags.Count == 0 ? null : JsonConvert.SerializeObject(tags, Settings);

    public static T Read<T>(string json) => JsonConvert.DeserializeObject<T>(json, Settings)
        ?? throw new JsonSerializationException($"A stored {typeof(T).Name} is empty.");

    private sealed class CoreTypesOnly : DefaultSerializationBinder
    {
        private static readonly HashSet<string> Allowed = [typeof(TaskMessage).Assembly.GetName().Name!, "System.Private.CoreLib", "mscorlib"];

        public override Type BindToType(string? assemblyName, string typeName) =>
            assemblyName is not null && Allowed.Contains(assemblyName)
                ? base.BindToType(assemblyName, typeName)
                : throw new JsonSerializationException($"Type '{typeName}, {assemblyName}' is not a DurableTask.Core type.");
    }
}
