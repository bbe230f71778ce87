using Microsoft.DurableTask;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Workflows;

/// <summary>Decides from a failed activity's details whether another attempt can help.</summary>
public static class StepFailures
{
    private static readonly HashSet<string> Permanent = new(StringComparer.Ordinal)
    {
        typeof(LlmRequestRejectedException).FullName!,
        typeof(RunNotActiveException).FullName!,
        typeof(BudgetExceededException).FullName!,
        typeof(TemplateException).FullName!,
        typeof(StructuredOutputException).FullName!,
        typeof(ArgumentException).FullName!,
    };

    public static bool IsRetryable(TaskFailureDetails failure)
    {
        for (var current = failure; current is not null; current = current.InnerFailure)
        {
            if (Permanent.Contains(current.ErrorType))
            {
                return false;
            }
        }

        return true;
    }
}
