using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Llm.Limits;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>A gateway as the hosts build it, its cluster-wide limits on the test's database.</summary>
internal static class Gateways
{
    public static LlmGateway Create(LlmOptions options, NpgsqlDataSource dataSource) =>
        new(
            Options.Create(options), TimeProvider.System, NullLogger<LlmGateway>.Instance,
            new ProviderLimiterFactory(dataSource, new InstanceIdentity("test"), Options.Create(new LlmLimitOptions()), TimeProvider.System, NullLoggerFactory.Instance));
}
