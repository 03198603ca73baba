using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>Reads one row of the claim statement (columns 0 to 11, and 16 to 18) into the job it claimed.</summary>
internal static class ClaimedRow
{
    public static ClaimedJob Read(NpgsqlDataReader reader, string leaseOwner) =>
        new(
            new JobId(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2), reader.GetInt16(3), reader.GetInt32(4),
            reader.GetInt32(5), TimeSpan.FromMilliseconds(reader.GetInt64(6)), reader.GetString(7), PostgresJobStore.ReadBackoff(reader, 8),
            leaseOwner, reader.GetInt32(11), TimeSpan.FromMilliseconds(reader.GetInt64(16)),
            reader.IsDBNull(17) ? null : reader.GetString(17), reader.IsDBNull(18) ? null : reader.GetString(18));
}
