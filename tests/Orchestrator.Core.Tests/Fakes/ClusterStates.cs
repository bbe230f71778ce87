using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Operations;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>A <see cref="ClusterState"/> over a data source, not refreshing by itself: tests set its state with Apply.</summary>
public static class ClusterStates
{
    public static ClusterState For(NpgsqlDataSource dataSource) =>
        new(new OperationsStore(dataSource, TimeProvider.System), Options.Create(new OperationsOptions()), NullLogger<ClusterState>.Instance);
}
