using DurableTask.Core;

namespace Orchestrator.Durable.Postgres.Tests.Infrastructure;

/// <summary>An activity made of a function, so a test states in place what its steps do and what they record.</summary>
internal sealed class FuncActivity<TInput, TResult>(Func<TInput, Task<TResult>> run) : AsyncTaskActivity<TInput, TResult>
{
    public FuncActivity(Func<TInput, TResult> run)
        : this(input => Task.FromResult(run(input)))
    {
    }

    protected override Task<TResult> ExecuteAsync(TaskContext context, TInput input) => run(input);
}
