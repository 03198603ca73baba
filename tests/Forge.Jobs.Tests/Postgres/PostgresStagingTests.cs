using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>The claim index holds only available jobs; a claim first stages the due scheduled and retrying jobs of its
/// queues, so they compete by priority with the jobs that were available already.</summary>
public sealed class PostgresStagingTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    [Fact]
    public async Task Claim_TakesADueScheduledJobOfHigherPriorityBeforeAvailableOnes()
    {
        var schema = NewSchema("staging_priority");
        var store = await StoreAsync(schema);
        await DataSource.ExecuteAsync($$"""
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 'low', 'default', 'available', 1, 3, 300000, '{}', now() - interval '1 minute' FROM generate_series(1, 5);
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            VALUES ('due', 'default', 'scheduled', 9, 3, 300000, '{}', now() - interval '1 second'),
                   ('retry', 'default', 'retrying', 8, 3, 300000, '{}', now() - interval '1 second'),
                   ('later', 'default', 'scheduled', 9, 3, 300000, '{}', now() + interval '1 hour');
            """);

        var claimed = await ClaimAsync(store, 2, TimeSpan.FromMinutes(1));

        Assert.Equal(["due", "retry"], claimed.Select(j => j.Type));
        Assert.Equal("scheduled", await DataSource.ScalarAsync<string>($"SELECT state::text FROM {schema}.jobs WHERE type = 'later'"));
    }

    [Fact]
    public async Task Stage_MakesNoMoreDueJobsAvailableThanTheClaimAsksFor()
    {
        var schema = NewSchema("staging_limit");
        var store = await StoreAsync(schema);
        await DataSource.ExecuteAsync($$"""
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 'due', 'default', 'scheduled', 5, 3, 300000, '{}', now() - g * interval '1 second' FROM generate_series(1, 10) AS g;
            """);

        var claimed = await ClaimAsync(store, 3, TimeSpan.FromMinutes(1));

        Assert.Equal(3, claimed.Count);
        Assert.Equal(7, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE state = 'scheduled'"));
    }
}
