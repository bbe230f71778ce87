using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;
using Serilog.Formatting.Json;

namespace Orchestrator.Core.Hosting;

/// <summary>
/// One JSON object per event in the compact log event format (CLEF) that log tools read: <c>@t</c>, <c>@l</c>,
/// <c>@m</c>, <c>@x</c>, <c>@tr</c>, <c>@sp</c>, then every property and scope value as a field. Unlike
/// Serilog.Formatting.Compact's rendered formatter, the level is always written and the message renders strings
/// unquoted, as the same line reads on the simple console.
/// </summary>
internal sealed class JsonLineFormatter : ITextFormatter
{
    private static readonly MessageTemplateTextFormatter Message = new("{Message:lj}", CultureInfo.InvariantCulture);
    private static readonly JsonValueFormatter Values = new(typeTagName: null);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write("{\"@t\":\"");
        output.Write(logEvent.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        output.Write("\",\"@l\":\"");
        output.Write(logEvent.Level);
        output.Write("\",\"@m\":");
        using (var message = new StringWriter(CultureInfo.InvariantCulture))
        {
            Message.Format(logEvent, message);
            JsonValueFormatter.WriteQuotedJsonString(message.ToString(), output);
        }

        if (logEvent.Exception is not null)
        {
            output.Write(",\"@x\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.Exception.ToString(), output);
        }

        if (logEvent.TraceId is { } traceId)
        {
            output.Write(",\"@tr\":\"");
            output.Write(traceId.ToHexString());
            output.Write('"');
        }

        if (logEvent.SpanId is { } spanId)
        {
            output.Write(",\"@sp\":\"");
            output.Write(spanId.ToHexString());
            output.Write('"');
        }

        foreach (var (name, value) in logEvent.Properties)
        {
            output.Write(',');
            // CLEF reserves the @ prefix; a property that starts with one is escaped by doubling it.
            JsonValueFormatter.WriteQuotedJsonString(name.StartsWith('@') ? "@" + name : name, output);
            output.Write(':');
            Values.Format(value, output);
        }

        output.Write('}');
        output.WriteLine();
    }
}
