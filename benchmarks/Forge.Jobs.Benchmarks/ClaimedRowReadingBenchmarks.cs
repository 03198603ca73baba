using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Npgsql;

namespace Forge.Jobs.Benchmarks;

/// <summary>Reading the PostgreSQL claim statement's rows into <see cref="ClaimedJob"/> records with
/// <see cref="ClaimedRow.Read"/>. The rows come from a query with the claim's columns (no table, no locks), so the
/// difference to <see cref="ReadRowsOnly"/>, which reads the same rows without touching a column, is the cost of
/// decoding and mapping them. Needs FORGE_BENCH_PG, the connection string of a PostgreSQL server.</summary>
[MemoryDiagnoser]
public class ClaimedRowReadingBenchmarks
{
    public const int Rows = 1_000;

    private const string ClaimShapedRows = """
        SELECT g::bigint, 'send_email'::text, 'emails'::text, 7::smallint, 1, 3, 300000::bigint, $1::text,
               NULL::bigint, NULL::bigint, NULL::double precision, 0, NULL::bigint, ARRAY[]::text[], ARRAY[]::text[],
               0::bigint, 0::bigint, NULL::text, NULL::text
        FROM generate_series(1, $2) AS g
        """;

    private readonly string _payload = JsonSerializer.Serialize(SendEmail.Sample(42));
    private NpgsqlDataSource? _dataSource;

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = Environment.GetEnvironmentVariable("FORGE_BENCH_PG")
            ?? throw new InvalidOperationException("Set FORGE_BENCH_PG to a PostgreSQL connection string to run the claimed row reading benchmark.");
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rows)]
    public async Task<int> ReadRowsOnly()
    {
        await using var command = Command();
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
        }

        return rows;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public async Task<int> ReadClaimedJobs()
    {
        await using var command = Command();
        await using var reader = await command.ExecuteReaderAsync();
        var claimed = new List<ClaimedJob>();
        while (await reader.ReadAsync())
        {
            claimed.Add(ClaimedRow.Read(reader, "node-1"));
        }

        return claimed.Count;
    }

    private NpgsqlCommand Command()
    {
        var command = _dataSource!.CreateCommand(ClaimShapedRows);
        command.Parameters.Add(new NpgsqlParameter { Value = _payload });
        command.Parameters.Add(new NpgsqlParameter { Value = Rows });
        return command;
    }

    [GlobalCleanup]
    public void Cleanup() => _dataSource!.Dispose();
}
