using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core.History;

namespace Orchestrator.Core.Api;

/// <summary>
/// An orchestration's history as the Functions host shows it under <c>historyEvents</c>: replay markers dropped,
/// each completion merged with the event that scheduled it (<c>FunctionName</c>, <c>ScheduledTime</c>), enum values
/// as names, and results only when outputs were asked for.
/// </summary>
internal static class DurableHistory
{
    public static JsonArray Shape(IEnumerable<HistoryEvent> history, bool showOutput, bool showInput)
    {
        var events = history.ToList();
        var scheduled = new Dictionary<int, (int Index, string? Name, DateTime Time, string? Input)>();
        var merged = new HashSet<int>();
        var shaped = new JsonObject?[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var item = new JsonObject { ["EventType"] = events[i].EventType.ToString() };
            switch (events[i])
            {
                case OrchestratorStartedEvent or OrchestratorCompletedEvent:
                    continue;
                case ExecutionStartedEvent started:
                    item["FunctionName"] = started.Name;
                    AddInput(item, started.Input, showInput);
                    if (started.ScheduledStartTime is { } startAt)
                    {
                        item["ScheduledStartTime"] = Time(startAt);
                    }

                    break;
                case TaskScheduledEvent task:
                    scheduled[Key(task.EventId, sub: false)] = (i, task.Name, task.Timestamp, task.Input);
                    item["Name"] = task.Name;
                    AddInput(item, task.Input, showInput);
                    break;
                case SubOrchestrationInstanceCreatedEvent sub:
                    scheduled[Key(sub.EventId, sub: true)] = (i, sub.Name, sub.Timestamp, sub.Input);
                    item["Name"] = sub.Name;
                    item["InstanceId"] = sub.InstanceId;
                    AddInput(item, sub.Input, showInput);
                    break;
                case TaskCompletedEvent completed:
                    Merge(item, Key(completed.TaskScheduledId, sub: false));
                    AddResult(item, completed.Result, showOutput);
                    break;
                case TaskFailedEvent failed:
                    Merge(item, Key(failed.TaskScheduledId, sub: false));
                    AddFailure(item, failed.Reason, failed.FailureDetails);
                    break;
                case SubOrchestrationInstanceCompletedEvent completed:
                    Merge(item, Key(completed.TaskScheduledId, sub: true));
                    AddResult(item, completed.Result, showOutput);
                    break;
                case SubOrchestrationInstanceFailedEvent failed:
                    Merge(item, Key(failed.TaskScheduledId, sub: true));
                    AddFailure(item, failed.Reason, failed.FailureDetails);
                    break;
                case ContinueAsNewEvent continued:
                    AddResult(item, continued.Result, showOutput);
                    break;
                case ExecutionCompletedEvent done:
                    item["OrchestrationStatus"] = done.OrchestrationStatus.ToString();
                    AddResult(item, done.Result, showOutput);
                    if (done.FailureDetails is { } failure)
                    {
                        item["FailureDetails"] = Failure(failure);
                    }

                    break;
                case ExecutionTerminatedEvent terminated:
                    AddInput(item, terminated.Input, showInput);
                    break;
                case ExecutionSuspendedEvent suspended:
                    item["Reason"] = suspended.Reason;
                    break;
                case ExecutionResumedEvent resumed:
                    item["Reason"] = resumed.Reason;
                    break;
                case TimerCreatedEvent timer:
                    item["FireAt"] = Time(timer.FireAt);
                    break;
                case TimerFiredEvent timer:
                    item["FireAt"] = Time(timer.FireAt);
                    break;
                case EventRaisedEvent raised:
                    item["Name"] = raised.Name;
                    AddInput(item, raised.Input, showInput);
                    break;
                case EventSentEvent sent:
                    item["Name"] = sent.Name;
                    item["InstanceId"] = sent.InstanceId;
                    AddInput(item, sent.Input, showInput);
                    break;
            }

            item["Timestamp"] = Time(events[i].Timestamp);
            shaped[i] = item;
        }

        return new JsonArray(shaped.Where((item, i) => item is not null && !merged.Contains(i)).Select(JsonNode? (item) => item).ToArray());

        void Merge(JsonObject item, int key)
        {
            if (scheduled.TryGetValue(key, out var origin))
            {
                item["FunctionName"] = origin.Name;
                item["ScheduledTime"] = Time(origin.Time);
                AddInput(item, origin.Input, showInput);
                merged.Add(origin.Index);
            }
        }
    }

    /// <summary>Parses a serialized payload as JSON; anything that is not JSON (a terminate reason) stays a string.</summary>
    public static JsonNode? Payload(string? serialized)
    {
        if (serialized is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(serialized);
        }
        catch (JsonException)
        {
            return JsonValue.Create(serialized);
        }
    }

    public static string Time(DateTime time) =>
        DateTime.SpecifyKind(time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time, DateTimeKind.Utc).ToString("o", CultureInfo.InvariantCulture);

    // Task and sub-orchestration ids are numbered independently, so they are kept apart.
    private static int Key(int eventId, bool sub) => sub ? -1 - eventId : eventId;

    private static void AddInput(JsonObject item, string? input, bool showInput)
    {
        if (showInput && input is not null)
        {
            item["Input"] = input;
        }
    }

    private static void AddResult(JsonObject item, string? result, bool showOutput)
    {
        if (showOutput)
        {
            item["Result"] = Payload(result);
        }
    }

    // Details is left out: in the legacy error mode it carries the exception's stack trace.
    private static void AddFailure(JsonObject item, string? reason, DurableTask.Core.FailureDetails? failure)
    {
        item["Reason"] = reason;
        if (failure is not null)
        {
            item["FailureDetails"] = Failure(failure);
        }
    }

    // The stack trace stays in the logs; the type and message are what a client can act on.
    private static JsonObject Failure(DurableTask.Core.FailureDetails failure) => new()
    {
        ["ErrorType"] = failure.ErrorType,
        ["ErrorMessage"] = failure.ErrorMessage,
        ["IsNonRetriable"] = failure.IsNonRetriable,
    };
}
