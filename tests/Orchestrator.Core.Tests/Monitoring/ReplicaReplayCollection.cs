namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Tests that pause WAL replay on the shared replica: one at a time, and never alongside the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReplicaReplayCollection
{
    public const string Name = "replica replay";
}
