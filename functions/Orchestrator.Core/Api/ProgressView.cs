namespace Orchestrator.Core.Api;

/// <summary>How many of the definition's steps have finished.</summary>
public sealed record ProgressView(int Completed, int Total);
