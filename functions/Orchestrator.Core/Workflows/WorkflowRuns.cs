using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Starting, cancelling and retrying runs: what both hosts' HTTP endpoints do, written once. A run is stored in
/// Postgres before its orchestration is scheduled, and removed again if scheduling fails, so a rejected request
/// leaves nothing behind.
/// </summary>
public sealed class WorkflowRuns(
    WorkflowStore store, DefinitionRegistry registry, Llm.LlmGateway llm, ILogger<WorkflowRuns> logger, IOptions<ResilienceOptions>? resilience = null)
{
    /// <summary>Retry runs are keyed <c>retry:{id}</c>, so asking twice returns the same retry; user keys may not use it.</summary>
    public const string RetryKeyPrefix = "retry:";

    public async Task<RunOutcome> StartAsync(DurableTaskClient client, JsonNode? definitionField, JsonNode? input, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        var resolved = ResolveDefinition(definitionField, errors);
        if (resolved is null)
        {
            return RunOutcome.Invalid(errors);
        }

        var (definition, canonicalJson) = resolved.Value;
        var providerErrors = UnknownProviders(definition).ToList();
        if (providerErrors.Count > 0)
        {
            return RunOutcome.Invalid(providerErrors);
        }

        input ??= new JsonObject();
        var inputErrors = InputSchemas.Check(definition, input);
        if (inputErrors.Count > 0)
        {
            return RunOutcome.Invalid(inputErrors);
        }

        var run = new NewRun(NewRunId(), definition.Name, definition.Version, canonicalJson, input.ToJsonString(), null, idempotencyKey);
        return await StoreAndScheduleAsync(client, run, cancellationToken);
    }

    /// <summary>Cancels a run that has not finished: marks it Cancelled, then terminates its orchestration.</summary>
    public async Task<RunOutcome> CancelAsync(DurableTaskClient client, string id, string reason, CancellationToken cancellationToken)
    {
        var (cancelled, previous) = await store.CancelRunAsync(id, reason, cancellationToken);
        if (previous is null)
        {
            return new RunOutcome(RunOutcomeKind.NotFound, id, []);
        }

        if (!cancelled)
        {
            return new RunOutcome(RunOutcomeKind.Conflict, id, [], $"run {id} is already {previous}; only Pending or Running runs can be cancelled", previous);
        }

        try
        {
            await client.TerminateInstanceAsync(id, new TerminateInstanceOptions { Output = reason }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The run is marked Cancelled either way: every step checks that before spending anything.
            Log.TerminateFailed(logger, ex, id);
        }

        Log.RunCancelled(logger, id, reason);
        return new RunOutcome(RunOutcomeKind.Accepted, id, []);
    }

    /// <summary>Starts a new run of a failed or cancelled one, reusing every step it completed.</summary>
    public async Task<RunOutcome> RetryAsync(DurableTaskClient client, string id, CancellationToken cancellationToken)
    {
        var previous = await store.GetRunAsync(id, cancellationToken);
        if (previous is null)
        {
            return new RunOutcome(RunOutcomeKind.NotFound, id, []);
        }

        if (previous.Status is not (RunStatus.Failed or RunStatus.Cancelled))
        {
            return new RunOutcome(RunOutcomeKind.Conflict, id, [], $"run {id} is {previous.Status}; only Failed or Cancelled runs can be retried", previous.Status);
        }

        // One retry per run: asking twice returns the same new run.
        var run = new NewRun(NewRunId(), previous.DefinitionName, previous.DefinitionVersion, previous.DefinitionJson, previous.InputJson, id, RetryKeyPrefix + id);
        return await StoreAndScheduleAsync(client, run, cancellationToken);
    }

    private async Task<RunOutcome> StoreAndScheduleAsync(DurableTaskClient client, NewRun run, CancellationToken cancellationToken)
    {
        var (id, created) = await store.InsertRunAsync(run with { TaskHub = client.Name }, cancellationToken);
        if (!created)
        {
            return new RunOutcome(RunOutcomeKind.AlreadyExists, id, []);
        }

        try
        {
            if (run.RetryOf is not null)
            {
                await store.CopyCompletedStepsAsync(run.RetryOf, id, cancellationToken);
            }

            var restoreEpoch = await store.GetRestoreEpochAsync(cancellationToken);
            await client.ScheduleNewOrchestrationInstanceAsync(
                WorkflowTaskNames.Orchestrator,
                new WorkflowRunInput(id, run.DefinitionJson, run.InputJson, run.RetryOf, Outage, restoreEpoch),
                new StartOrchestrationOptions(InstanceId: id),
                cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not NpgsqlException)
        {
            Log.ScheduleFailed(logger, ex, id);
            await store.DeleteRunAsync(id, CancellationToken.None);
            return new RunOutcome(RunOutcomeKind.Unavailable, null, [], "the durable task hub could not accept the run; nothing was stored, try again");
        }

        Log.RunStarted(logger, id, $"{run.DefinitionName}@{run.DefinitionVersion}", run.RetryOf);
        return new RunOutcome(RunOutcomeKind.Accepted, id, []);
    }

    private (WorkflowDefinition Definition, string CanonicalJson)? ResolveDefinition(JsonNode? field, List<DefinitionError> errors)
    {
        switch (field)
        {
            case null:
                errors.Add(new DefinitionError("definition", "required: a registered definition name (or name@version) or an inline definition object"));
                return null;
            case JsonValue value when value.TryGetValue<string>(out var reference):
                var registered = registry.Find(reference);
                if (registered is null)
                {
                    errors.Add(new DefinitionError("definition", $"unknown definition '{reference}'{Suggestions.Hint(reference.Split('@')[0], registry.Names)}"));
                    return null;
                }

                return (registered.Definition, registered.CanonicalJson);
            case JsonObject:
                var found = new List<DefinitionError>();
                var definition = DefinitionValidator.TryValidate(field, found);
                if (definition is null || found.Count > 0)
                {
                    errors.AddRange(found.Select(e => e with { Path = e.Path.Length == 0 ? "definition" : "definition." + e.Path }));
                    return null;
                }

                return (definition, DefinitionJson.Serialize(definition));
            default:
                errors.Add(new DefinitionError("definition", "must be a definition name or a definition object"));
                return null;
        }
    }

    /// <summary>Providers a definition names (alone or in a fallback chain) that this deployment does not configure.</summary>
    private IEnumerable<DefinitionError> UnknownProviders(WorkflowDefinition definition)
    {
        IEnumerable<DefinitionError> Check(string path, ProviderChain? chain)
        {
            var choices = chain?.Choices ?? [];
            for (var i = 0; i < choices.Count; i++)
            {
                var name = choices[i].Name;
                if (!llm.Knows(name))
                {
                    var at = choices.Count == 1 && choices[i].Model is null ? path : choices[i].Model is null ? $"{path}[{i}]" : $"{path}[{i}].name";
                    yield return new(at, $"unknown provider '{name}'{Suggestions.Hint(name, llm.ProviderNames)}; configured: {string.Join(", ", llm.ProviderNames)}");
                }
            }
        }

        foreach (var error in Check("definition.defaults.provider", definition.Defaults?.Provider))
        {
            yield return error;
        }

        for (var i = 0; i < definition.Steps.Count; i++)
        {
            var nested = definition.Steps[i] is MapStepDefinition map
                ? map.Body.Select((s, j) => (Step: s, Path: map.Steps is null ? $"definition.steps[{i}].step" : $"definition.steps[{i}].steps[{j}]"))
                : [(definition.Steps[i], $"definition.steps[{i}]")];
            foreach (var (step, path) in nested)
            {
                foreach (var error in Check($"{path}.provider", (step as LlmStepDefinition)?.Provider))
                {
                    yield return error;
                }
            }
        }
    }

    /// <summary>The outage policy a run started now carries in its input.</summary>
    public OutagePolicy Outage { get; } = resilience is null ? OutagePolicy.Default : OutagePolicy.From(resilience.Value);

    private static string NewRunId() => RunIds.New();
}
