namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Server A (the base fixture's) and Server B: one database, one task hub and one fake LLM, their own instance.</summary>
public abstract class TwoServerFixture : ServerFixture
{
    public ServerProcess ServerB { get; private set; } = null!;

    public OrchestratorApi ApiB { get; private set; } = null!;

    /// <summary>The settings of instance <c>a</c> or <c>b</c>.</summary>
    protected abstract Dictionary<string, string?> SettingsFor(string instance);

    protected sealed override IReadOnlyDictionary<string, string?> Settings => SettingsFor("a");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        ServerB = new ServerProcess(Database, TaskHub, Llm.BaseUrl, SettingsFor("b"));
        await ServerB.StartAsync();
        ApiB = new OrchestratorApi(ServerB.BaseAddress);
    }

    public override async Task DisposeAsync()
    {
        ApiB?.Dispose();
        if (ServerB is not null)
        {
            await ServerB.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}
