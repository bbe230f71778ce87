namespace Orchestrator.Server.Durable;

/// <summary>
/// DurableTask.Core's converter speaking System.Text.Json, like the worker shims: what the client writes, the
/// orchestrations read (Core's default converter is Newtonsoft with <c>$type</c>, which the shims cannot read).
/// </summary>
public sealed class SystemTextJsonDataConverter : DurableTask.Core.Serializing.DataConverter
{
    private readonly Microsoft.DurableTask.DataConverter inner = Microsoft.DurableTask.Converters.JsonDataConverter.Default;

    public override string Serialize(object value) => inner.Serialize(value) ?? "null";

    public override string Serialize(object value, bool formatted) => Serialize(value);

    public override object Deserialize(string data, Type objectType) => inner.Deserialize(data, objectType)!;
}
