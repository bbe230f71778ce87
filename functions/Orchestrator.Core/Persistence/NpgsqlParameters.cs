using Npgsql;
using NpgsqlTypes;

namespace Orchestrator.Core.Persistence;

/// <summary>Typed parameters whose value may be null (sent as SQL NULL).</summary>
internal static class NpgsqlParameters
{
    public static void AddNullable(this NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) =>
        parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
}
