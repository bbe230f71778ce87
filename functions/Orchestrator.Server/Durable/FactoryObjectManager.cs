using DurableTask.Core;

namespace Orchestrator.Server.Durable;

/// <summary>Name-to-factory lookup of orchestrations and activities for <see cref="TaskHubWorker"/> (Core's own is internal).</summary>
public sealed class FactoryObjectManager<T> : INameVersionObjectManager<T>
{
    private readonly Dictionary<string, ObjectCreator<T>> creators = new(StringComparer.Ordinal);

    public void Add(ObjectCreator<T> creator) => creators[Key(creator.Name, creator.Version)] = creator;

    public T? GetObject(string name, string? version) =>
        creators.TryGetValue(Key(name, version), out var creator) || creators.TryGetValue(Key(name, string.Empty), out creator)
            ? creator.Create()
            : default;

    private static string Key(string name, string? version) => $"{name}\n{version}";
}
