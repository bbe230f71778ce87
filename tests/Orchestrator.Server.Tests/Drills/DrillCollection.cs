namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// Drills stop, crash, promote and restore PostgreSQL servers, so they run alone (after every other test) on a
/// cluster of their own, never on the one the rest of the suite uses.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DrillCollection : ICollectionFixture<DrillCluster>
{
    public const string Name = "Drills";
}
