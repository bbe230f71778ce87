namespace Orchestrator.Server.Tests;

/// <summary>End-to-end classes run one at a time: each starts its own Server process on a two-core machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEnd
{
    public const string Name = "end-to-end";
}
