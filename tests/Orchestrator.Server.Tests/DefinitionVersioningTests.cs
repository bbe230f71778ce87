using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>A run keeps the definition it started with, even when the registry's file changes under it.</summary>
[Collection(EndToEnd.Name)]
public sealed class DefinitionVersioningTests : IAsyncLifetime
{
    private readonly string database = TestEnvironment.NewDatabase("orch_defs");
    private readonly string taskHub = "defs" + Guid.NewGuid().ToString("N")[..10];
    private readonly string folder = Directory.CreateTempSubdirectory("definitions-").FullName;
    private readonly string tag = Definitions.Tag();
    private FakeOpenAiServer llm = null!;
    private ServerProcess server = null!;

    public async Task InitializeAsync()
    {
        WriteDefinition("v1");
        llm = await FakeOpenAiServer.StartAsync();
        server = new ServerProcess(database, taskHub, llm.BaseUrl, new Dictionary<string, string?> { ["Workflows__DefinitionsPath"] = folder });
        await server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await llm.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task A_definition_edited_while_a_run_waits_does_not_change_that_run()
    {
        string id;
        using (var api = new OrchestratorApi(server.BaseAddress))
        {
            id = await api.StartAsync("edit-me", new JsonObject());
            await WaitUntilWaitingAsync(api, id);
        }

        await server.KillAsync();
        WriteDefinition("v2");
        await server.StartAsync();

        using (var api = new OrchestratorApi(server.BaseAddress))
        {
            var (_, current, _) = await api.GetAsync("/api/v1/definitions/edit-me");
            Assert.Contains("v2", current!["steps"]![2]!["prompt"]!.GetValue<string>());

            var (status, _, _) = await api.PostAsync($"/api/v1/workflows/{id}/events/go", new JsonObject { ["approved"] = true });
            Assert.Equal(HttpStatusCode.Accepted, status);
            await api.WaitForStatusAsync(id, "Completed");
        }

        var last = Assert.Single(llm.Containing($"LAST-{tag}"));
        Assert.Contains("written by v1", last.Prompt);
        Assert.DoesNotContain("v2", last.Prompt);
        Assert.Equal(1, llm.CountContaining($"FIRST-{tag}"));
    }

    private void WriteDefinition(string version) => File.WriteAllText(Path.Combine(folder, "edit-me.yaml"), $$$"""
        name: edit-me
        version: 1
        steps:
          - id: first
            type: llm
            prompt: "FIRST-{{{tag}}} written by {{{version}}}"
          - id: go
            type: approval
            timeout: 10m
          - id: last
            type: llm
            prompt: "LAST-{{{tag}}} written by {{{version}}} after {{ steps.first.output }}"
        """);

    private static async Task WaitUntilWaitingAsync(OrchestratorApi api, string id)
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await api.GetRunAsync(id))["waitingFor"]!.AsArray().Count > 0)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"run {id} never started waiting");
    }
}
