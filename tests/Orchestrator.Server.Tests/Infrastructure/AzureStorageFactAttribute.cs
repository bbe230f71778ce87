using Orchestrator.Server.Durable;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// A test about the Azure Storage task hub itself (its storage lost, Azurite cut off): it runs when
/// <see cref="TestEnvironment.DurableBackend"/> is AzureStorage and is reported skipped, with <paramref name="reason"/>,
/// on any other backend.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AzureStorageFactAttribute : FactAttribute
{
    public AzureStorageFactAttribute(string reason)
    {
        Reason = reason;
        if (TestEnvironment.DurableBackend != DurableBackendKind.AzureStorage)
        {
            Skip = $"AzureStorage backend only: {reason} (ORCH_TEST_DURABLE_BACKEND is {TestEnvironment.DurableBackend})";
        }
    }

    /// <summary>Why the test means nothing on another backend.</summary>
    public string Reason { get; }
}
