using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Workflows;

/// <summary>Puts a run's and a step's ids on the activity's log lines (a logging scope) and on its span (tags).</summary>
internal static class StepDiagnostics
{
    public static IDisposable? Step(ILogger logger, string runId, string stepId, int iteration)
    {
        Activity.Current?
            .SetTag(OrchestratorTelemetry.RunIdTag, runId)
            .SetTag(OrchestratorTelemetry.StepIdTag, stepId)
            .SetTag(OrchestratorTelemetry.IterationTag, iteration);
        return Log.StepScope(logger, runId, stepId, iteration);
    }

    public static IDisposable? Run(ILogger logger, string runId)
    {
        Activity.Current?.SetTag(OrchestratorTelemetry.RunIdTag, runId);
        return Log.RunScope(logger, runId);
    }
}
