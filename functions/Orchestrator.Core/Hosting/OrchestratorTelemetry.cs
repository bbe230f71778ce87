namespace Orchestrator.Core.Hosting;

/// <summary>Names under which the product's spans and metrics are published.</summary>
public static class OrchestratorTelemetry
{
    /// <summary>The service name when <c>OTEL_SERVICE_NAME</c> does not give one.</summary>
    public const string ServiceName = "llm-orchestrator";

    /// <summary>Spans (<c>chat {model}</c>) and metrics (<c>gen_ai.client.*</c>) of every LLM call, after the GenAI semantic conventions.</summary>
    public const string LlmSource = "Orchestrator.Llm";

    /// <summary>DurableTask.Core (the Server's TaskHubClient and TaskHubWorker): create_orchestration, orchestration and activity spans.</summary>
    public const string DurableTaskCoreSource = "DurableTask.Core";

    /// <summary>The Durable SDK's worker (the Functions app's orchestrations and activities).</summary>
    public const string DurableTaskSdkSource = "Microsoft.DurableTask";

    /// <summary>Span tags that make a run's trace findable by its ids.</summary>
    public const string RunIdTag = "orchestrator.run_id";

    public const string StepIdTag = "orchestrator.step_id";

    public const string IterationTag = "orchestrator.iteration";
}
