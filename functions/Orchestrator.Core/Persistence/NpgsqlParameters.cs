using Npgsql;
using NpgsqlTypes;

namespace Orchestrator.Core.Persistence;

/// <summary>Parameter helpers of the store: nullable typed values and a step's natural key.</summary>
internal static class NpgsqlParameters
{
    public static void AddNullable(this NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) =>
        parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });

    /// <summary>The natural key of a step execution, <c>@run</c>, <c>@step</c>, <c>@iteration</c>.</summary>
    public static void AddStepKey(this NpgsqlParameterCollection parameters, string runId, string stepId, int iteration)
    {
        parameters.AddWithValue("run", runId);
        parameters.AddWithValue("step", stepId);
        parameters.AddWithValue("iteration", iteration);
    }
}
