using DurableTask.Core;

namespace Orchestrator.Durable.Postgres.Tests;

/// <summary>The suite's orchestrations: plain DurableTask.Core orchestrations, registered on every worker.</summary>
public abstract partial class DurableProviderConformance
{
    private static readonly Type[] Orchestrations =
        [typeof(Chain), typeof(FanOut), typeof(Sleep), typeof(Approval), typeof(ClearsStatusWhenApproved), typeof(StepThenApproval), typeof(SingleStep), typeof(ThreeSteps), typeof(EchoRecordThenFinish)];

    /// <summary>When a timer was due and when the orchestration saw it fire (its clock at that episode).</summary>
    public sealed record TimerReport(DateTime FireAt, DateTime FiredAt);

    /// <summary>
    /// A custom status, and external events kept until the orchestration asks for them: plain DurableTask.Core hands
    /// an event to <see cref="TaskOrchestration{TResult,TInput,TEvent,TStatus}.OnEvent"/> when it arrives and leaves
    /// keeping it to the orchestration (the Durable SDK's shims do the same).
    /// </summary>
    private protected abstract class ConformanceOrchestration<TResult, TInput> : TaskOrchestration<TResult, TInput, string, string>
    {
        private readonly Dictionary<string, Queue<string>> arrived = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TaskCompletionSource<string>> waiting = new(StringComparer.Ordinal);

        protected string? CustomStatus { get; set; }

        public override string OnGetStatus() => CustomStatus!;

        public override void OnEvent(OrchestrationContext context, string name, string input)
        {
            if (waiting.Remove(name, out var waiter))
            {
                waiter.SetResult(input);
                return;
            }

            if (!arrived.TryGetValue(name, out var queue))
            {
                arrived[name] = queue = new Queue<string>();
            }

            queue.Enqueue(input);
        }

        protected Task<string> WaitForEvent(string name)
        {
            if (arrived.TryGetValue(name, out var queue) && queue.Count > 0)
            {
                return Task.FromResult(queue.Dequeue());
            }

            var waiter = new TaskCompletionSource<string>();
            waiting[name] = waiter;
            return waiter.Task;
        }
    }

    /// <summary>((n + 1) * 2)², one activity after the other.</summary>
    private protected sealed class Chain : ConformanceOrchestration<int, int>
    {
        public override async Task<int> RunTask(OrchestrationContext context, int input)
        {
            var value = await context.ScheduleTask<int>(Increment, string.Empty, input);
            value = await context.ScheduleTask<int>(Twice, string.Empty, value);
            return await context.ScheduleTask<int>(Square, string.Empty, value);
        }
    }

    /// <summary>The sum of 1² .. n², the squares computed in parallel.</summary>
    private sealed class FanOut : ConformanceOrchestration<int, int>
    {
        public override async Task<int> RunTask(OrchestrationContext context, int input)
        {
            var squares = await Task.WhenAll(Enumerable.Range(1, input).Select(i => context.ScheduleTask<int>(Square, string.Empty, i)));
            return squares.Sum();
        }
    }

    /// <summary>A durable timer of <c>input</c> seconds; its due time is the custom status while it waits.</summary>
    private protected sealed class Sleep : ConformanceOrchestration<TimerReport, int>
    {
        public override async Task<TimerReport> RunTask(OrchestrationContext context, int input)
        {
            var fireAt = context.CurrentUtcDateTime.AddSeconds(input);
            CustomStatus = fireAt.ToString("O");
            await context.CreateTimer(fireAt, "sleep");
            return new TimerReport(fireAt, context.CurrentUtcDateTime);
        }
    }

    /// <summary>Says it is waiting (custom status), waits for the event "approval" and returns its payload.</summary>
    private sealed class Approval : ConformanceOrchestration<string, string>
    {
        public override async Task<string> RunTask(OrchestrationContext context, string input)
        {
            CustomStatus = "waiting";
            var answer = await WaitForEvent("approval");
            CustomStatus = $"approved: {answer}";
            return answer;
        }
    }

    /// <summary>Says it is waiting, waits for "approval", then clears its custom status and returns the payload.</summary>
    private sealed class ClearsStatusWhenApproved : ConformanceOrchestration<string, string>
    {
        public override async Task<string> RunTask(OrchestrationContext context, string input)
        {
            CustomStatus = "waiting";
            var answer = await WaitForEvent("approval");
            CustomStatus = null;
            return answer;
        }
    }

    /// <summary>Runs the activity "Work" first, then waits for the event "approval" and returns its payload.</summary>
    private sealed class StepThenApproval : ConformanceOrchestration<string, string>
    {
        public override async Task<string> RunTask(OrchestrationContext context, string input)
        {
            await context.ScheduleTask<string>("Work", string.Empty, input);
            return await WaitForEvent("approval");
        }
    }

    /// <summary>Returns what the activity "Work" returns for its input.</summary>
    private protected sealed class SingleStep : ConformanceOrchestration<string, string>
    {
        public override Task<string> RunTask(OrchestrationContext context, string input) =>
            context.ScheduleTask<string>("Work", string.Empty, input);
    }

    /// <summary>The activity "Step" for "instance/1", "instance/2", ... one after the other; returns how many ran.</summary>
    private sealed class ThreeSteps : ConformanceOrchestration<int, int>
    {
        public override async Task<int> RunTask(OrchestrationContext context, int input)
        {
            for (var step = 1; step <= 3; step++)
            {
                await context.ScheduleTask<string>("Step", string.Empty, $"{context.OrchestrationInstance.InstanceId}/{step}");
            }

            return 3;
        }
    }

    /// <summary>"Echo" then "Record" its result; then says so and waits for "finish" before returning the echo.</summary>
    private sealed class EchoRecordThenFinish : ConformanceOrchestration<string, string>
    {
        public override async Task<string> RunTask(OrchestrationContext context, string input)
        {
            var echo = await context.ScheduleTask<string>("Echo", string.Empty, input);
            await context.ScheduleTask<string>("Record", string.Empty, echo);
            CustomStatus = "recorded";
            await WaitForEvent("finish");
            return echo;
        }
    }
}
