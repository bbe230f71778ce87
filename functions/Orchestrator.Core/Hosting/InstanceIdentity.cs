using Microsoft.Extensions.Configuration;

namespace Orchestrator.Core.Hosting;

/// <summary>
/// Who this process is, for the leases it takes in PostgreSQL (step claims, LLM concurrency slots, breaker probes).
/// <see cref="Id"/> is the instance's stable name (<c>Instance:Id</c>, else the Server's <c>Durable:WorkerId</c>,
/// else Azure's <c>WEBSITE_INSTANCE_ID</c>, else the machine name); <see cref="Holder"/> adds a token unique to this
/// process, so a restarted instance can tell its predecessor's leases (same id, another token) from its own.
/// </summary>
public sealed class InstanceIdentity
{
    public InstanceIdentity(IConfiguration configuration)
        : this(FirstOf(configuration["Instance:Id"], configuration["Durable:WorkerId"], configuration["WEBSITE_INSTANCE_ID"]) ?? Environment.MachineName)
    {
    }

    public InstanceIdentity(string id)
    {
        Id = id;
        Holder = $"{id}/{Guid.NewGuid():N}";
    }

    /// <summary>The instance's stable name (the same after a restart).</summary>
    public string Id { get; }

    /// <summary><see cref="Id"/> plus this process's own token: the value written into a lease's holder column.</summary>
    public string Holder { get; }

    /// <summary>
    /// A holder for one execution of an activity: <see cref="Holder"/> plus a token of its own. A task hub queue may hand
    /// the same activity to this very process twice (a lapsed visibility timeout), so a step's lease names the
    /// execution, not only the process.
    /// </summary>
    public string NewExecutionHolder() => $"{Holder}/{Guid.NewGuid():N}";

    /// <summary>Whether <paramref name="holder"/> was written by an earlier process of this same instance (not by this process or one of its executions).</summary>
    public bool IsPredecessor(string holder) =>
        holder.StartsWith(Id + "/", StringComparison.Ordinal)
        && !string.Equals(holder, Holder, StringComparison.Ordinal)
        && !holder.StartsWith(Holder + "/", StringComparison.Ordinal);

    private static string? FirstOf(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
