using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 15, hostile names and values: SQL fragments, a 200-character string, empty and blank text, a tab,
/// Unicode and a NUL, given as a queue name, job type name, tag, idempotency key, schedule name and node id, and bad
/// schema names. Each is either refused with a message that states the rule (and nothing is stored) or stored and read
/// back verbatim through <see cref="IJobClient"/>; afterwards <c>forge.jobs</c> still exists and holds exactly what was
/// stored, and no table or schema appeared or vanished. Everything runs in-process on a real host.</summary>
public sealed class HostileInputTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    /// <summary>The schema the SQL fragments aim at.</summary>
    private const string Schema = "forge";

    /// <summary>A queue no node of this class serves, so that stored jobs stay as they were enqueued.</summary>
    private const string Parked = "parked";

    private const string QueueRule = "is not valid: use lower-case letters and digits, words joined by '_' or '-', at most 64 characters";
    private const string TypeRule = "is not valid: use 1 to 128 letters, digits, '_', '-', '.' or ':'";
    private const string TagRule = "is not valid: use 1 to 64 characters, not only white space, with no control characters";
    private const string KeyRule = "is not valid: use 1 to 255 characters with no NUL character (\\u0000) and no half of a surrogate pair";
    private const string ScheduleRule = "is not valid: use 1 to 128 letters, digits, '_', '-', '.' or ':'";
    private const string NodeRule = "is not valid: use 1 to 128 characters, not only white space, with no control characters";
    private const string SchemaRule = "is not valid: use lower-case letters, digits and '_', starting with a letter or '_', at most 58 characters";

    private NpgsqlDataSource _sql = null!;
    private IHost _baseline = null!;
    private IJobClient _client = null!;
    private Snapshot _before = null!;

    public async Task InitializeAsync()
    {
        _sql = NpgsqlDataSource.Create(database.ConnectionString);
        _baseline = BuildHost();
        _client = _baseline.Services.GetRequiredService<IJobClient>();
        await _baseline.Services.GetRequiredService<IJobStore>().InitializeAsync(default);
        _before = await SnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        _baseline.Dispose();
        await _sql.DisposeAsync();
    }

    [Theory]
    [InlineData("drop-table")]
    [InlineData("or-true")]
    [InlineData("200-chars")]
    [InlineData("empty")]
    [InlineData("spaces")]
    [InlineData("tab")]
    [InlineData("unicode")]
    [InlineData("emoji")]
    [InlineData("nul")]
    public async Task QueueName_InAddQueueAndQueueControl_IsRefusedStatingTheRule(string label)
    {
        var value = HostileValues.ByLabel[label];

        using (var host = BuildHost(f => f.AddQueue(value, q => q.Concurrency = 1)))
        {
            var start = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Contains($"AddQueue: Queue name '{Shown(value)}' {QueueRule}", start.Message, StringComparison.Ordinal);
        }

        using (var host = BuildHost(f => f.AddHandler<HostileHandler<ParkedJob>, ParkedJob>(t => t.Queue = value)))
        {
            var start = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Contains($"JobTypeOptions.Queue: Queue name '{Shown(value)}' {QueueRule}", start.Message, StringComparison.Ordinal);
        }

        Func<Task>[] controls =
        [
            () => _client.PauseQueueAsync(value),
            () => _client.ResumeQueueAsync(value),
            () => _client.SetQueueConcurrencyAsync(value, 1),
            () => _client.SetQueueGlobalLimitAsync(value, 1),
        ];
        foreach (var control in controls)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(control);
            Assert.Contains(QueueRule, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0L, await CountAsync("nodes"));
        Assert.Equal(0L, await CountAsync("queues"));
        await AssertOnlyStoredAsync(jobsStored: 0);
    }

    [Theory]
    [InlineData("drop-table")]
    [InlineData("or-true")]
    [InlineData("200-chars")]
    [InlineData("empty")]
    [InlineData("spaces")]
    [InlineData("tab")]
    [InlineData("unicode")]
    [InlineData("emoji")]
    [InlineData("nul")]
    public async Task QueueName_InJobOptions_IsRefusedAndNothingIsStored(string label)
    {
        var value = HostileValues.ByLabel[label];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new ParkedJob(), new JobOptions { Queue = value }));
        var many = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueManyAsync([new ParkedJob(), new ParkedJob()], new JobOptions { Queue = value }));

        Assert.Contains($"JobOptions.Queue: Queue name '{Shown(value)}' {QueueRule}", error.Message, StringComparison.Ordinal);
        Assert.Contains(QueueRule, many.Message, StringComparison.Ordinal);
        await AssertOnlyStoredAsync(jobsStored: 0);
    }

    [Theory]
    [InlineData("drop-table")]
    [InlineData("or-true")]
    [InlineData("200-chars")]
    [InlineData("empty")]
    [InlineData("spaces")]
    [InlineData("tab")]
    [InlineData("unicode")]
    [InlineData("emoji")]
    [InlineData("nul")]
    public async Task JobTypeName_AtRegistrationAndEnqueue_IsRefusedStatingTheRule(string label)
    {
        var value = HostileValues.ByLabel[label];
        var type = HostileTypes.ByLabel[label];

        using (var host = BuildHost(type.Register))
        {
            var start = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Contains($"Job type name '{Shown(value)}' {TypeRule}", start.Message, StringComparison.Ordinal);
        }

        var error = await Assert.ThrowsAsync<ArgumentException>(() => type.EnqueueAsync(_client));

        Assert.Contains($"Job type name '{Shown(value)}' {TypeRule}", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync("nodes"));
        await AssertOnlyStoredAsync(jobsStored: 0);
    }

    [Theory]
    [InlineData("drop-table", true)]
    [InlineData("or-true", true)]
    [InlineData("200-chars", false)]
    [InlineData("empty", false)]
    [InlineData("spaces", false)]
    [InlineData("tab", false)]
    [InlineData("unicode", true)]
    [InlineData("emoji", true)]
    [InlineData("nul", false)]
    public async Task Tag_IsStoredVerbatimOrRefusedStatingTheRule(string label, bool stored)
    {
        var value = HostileValues.ByLabel[label];
        var options = new JobOptions { Queue = Parked, Tags = ["plain", value] };

        if (!stored)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new ParkedJob(), options));
            var query = await Assert.ThrowsAsync<ArgumentException>(() => _client.ListJobsAsync(new JobQuery { Tag = value }));
            Assert.Contains($"JobOptions.Tags: Tag '{Shown(value)}' {TagRule}", error.Message, StringComparison.Ordinal);
            Assert.Contains(TagRule, query.Message, StringComparison.Ordinal);
            await AssertOnlyStoredAsync(jobsStored: 0);
            return;
        }

        var id = await _client.EnqueueAsync(new ParkedJob(), options);

        var job = await _client.GetJobAsync(id);
        Assert.Equal(["plain", value], job!.Tags);
        var found = Assert.Single(await _client.ListJobsAsync(new JobQuery { Tag = value }));
        Assert.Equal(id, found.Id);
        await AssertOnlyStoredAsync(jobsStored: 1);
    }

    [Theory]
    [InlineData("drop-table", true)]
    [InlineData("or-true", true)]
    [InlineData("200-chars", true)]
    [InlineData("empty", false)]
    [InlineData("spaces", true)]
    [InlineData("tab", true)]
    [InlineData("unicode", true)]
    [InlineData("emoji", true)]
    [InlineData("nul", false)]
    public async Task IdempotencyKey_IsStoredVerbatimOrRefusedStatingTheRule(string label, bool stored)
    {
        var value = HostileValues.ByLabel[label];

        if (!stored)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new ParkedJob(), new JobOptions { Queue = Parked, IdempotencyKey = value }));
            Assert.Contains($"JobOptions.IdempotencyKey: Idempotency key '{Shown(value)}' ({value.Length} characters) {KeyRule}", error.Message, StringComparison.Ordinal);
            await AssertOnlyStoredAsync(jobsStored: 0);
            return;
        }

        var first = await _client.EnqueueAsync(new ParkedJob(), new JobOptions { Queue = Parked, IdempotencyKey = value });
        var again = await _client.EnqueueAsync(new ParkedJob(), new JobOptions { Queue = Parked, IdempotencyKey = value });

        Assert.Equal(first, again);
        Assert.Equal(value, (await _client.GetJobAsync(first))!.IdempotencyKey);
        await AssertOnlyStoredAsync(jobsStored: 1);
    }

    [Theory]
    [InlineData("drop-table")]
    [InlineData("or-true")]
    [InlineData("200-chars")]
    [InlineData("empty")]
    [InlineData("spaces")]
    [InlineData("tab")]
    [InlineData("unicode")]
    [InlineData("emoji")]
    [InlineData("nul")]
    public async Task ScheduleName_AtRegistrationAndThroughTheClient_IsRefusedStatingTheRule(string label)
    {
        var value = HostileValues.ByLabel[label];

        var registration = Assert.Throws<ArgumentException>(() => BuildHost(f => f.AddRecurring(value, "0 7 * * *", new ParkedJob())));
        Assert.Contains($"Schedule name '{Shown(value)}' {ScheduleRule}", registration.Message, StringComparison.Ordinal);

        Func<Task>[] calls =
        [
            () => _client.AddOrUpdateScheduleAsync(value, "0 7 * * *", new ParkedJob(), new ScheduleOptions { Job = new JobOptions { Queue = Parked } }),
            () => _client.GetScheduleAsync(value),
            () => _client.PauseScheduleAsync(value),
            () => _client.ResumeScheduleAsync(value),
            () => _client.PreviewScheduleAsync(value, 3),
            () => _client.DeleteScheduleAsync(value),
        ];
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Contains($"Schedule name '{Shown(value)}' {ScheduleRule}", error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await _client.ListSchedulesAsync());
        Assert.Equal(0L, await CountAsync("schedules"));
        await AssertOnlyStoredAsync(jobsStored: 0);
    }

    [Theory]
    [InlineData("drop-table", true)]
    [InlineData("or-true", true)]
    [InlineData("200-chars", false)]
    [InlineData("empty", false)]
    [InlineData("spaces", false)]
    [InlineData("tab", false)]
    [InlineData("unicode", true)]
    [InlineData("emoji", true)]
    [InlineData("nul", false)]
    public async Task NodeId_RunsJobsUnderItVerbatimOrIsRefusedStatingTheRule(string label, bool stored)
    {
        var value = HostileValues.ByLabel[label];
        using var host = BuildHost(
            f => f.AddQueue("probes", q => q.Concurrency = 1).AddHandler<HostileHandler<ProbeJob>, ProbeJob>(t => t.Queue = "probes"),
            o => o.NodeId = value);

        if (!stored)
        {
            var start = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            var drain = await Assert.ThrowsAsync<ArgumentException>(() => _client.DrainNodeAsync(value));
            Assert.Contains($"ForgeJobsOptions.NodeId: Node id '{Shown(value)}' {NodeRule}", start.Message, StringComparison.Ordinal);
            Assert.Contains(NodeRule, drain.Message, StringComparison.Ordinal);
            Assert.Equal(0L, await CountAsync("nodes"));
            await AssertOnlyStoredAsync(jobsStored: 0);
            return;
        }

        await host.StartAsync();
        try
        {
            Assert.Equal(value, Assert.Single(await _client.ListNodesAsync()).Id);

            var id = await _client.EnqueueAsync(new ProbeJob(), new JobOptions { Queue = "probes" });
            await WaitUntilAsync(async () => (await _client.GetJobAsync(id))?.State == JobState.Succeeded, $"probe job {id} to succeed on node '{label}'");

            Assert.Equal(value, Assert.Single(await _client.GetAttemptsAsync(id)).Node);
            Assert.True(await _client.DrainNodeAsync(value));
            Assert.True(Assert.Single(await _client.ListNodesAsync()).IsDraining);
        }
        finally
        {
            await host.StopAsync();
        }

        Assert.Empty(await _client.ListNodesAsync());
        await AssertOnlyStoredAsync(jobsStored: 1);
    }

    [Theory]
    [InlineData("forge; drop")]
    [InlineData("Forge")]
    [InlineData("forge\"x")]
    public async Task Schema_NotAPlainLowerCaseIdentifier_IsRefusedBeforeAnySqlRuns(string schema)
    {
        var error = Assert.Throws<ArgumentException>(() => BuildHost(schema: schema));
        var script = Assert.Throws<ArgumentException>(() => ForgeJobsPostgres.GetMigrationScript(schema));

        Assert.Contains($"PostgresStoreOptions.Schema '{schema}' {SchemaRule}", error.Message, StringComparison.Ordinal);
        Assert.Contains(SchemaRule, script.Message, StringComparison.Ordinal);
        await AssertOnlyStoredAsync(jobsStored: 0);
    }

    private IHost BuildHost(Action<ForgeJobsBuilder>? configure = null, Action<ForgeJobsOptions>? options = null, string schema = Schema)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddForgeJobs(f =>
        {
            f.UsePostgres(database.ConnectionString, o => o.Schema = schema);
            f.Configure(o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                options?.Invoke(o);
            });
            configure?.Invoke(f);
        });
        return builder.Build();
    }

    // Every table and schema is where it was; forge.jobs exists and holds what this case stored.
    private async Task AssertOnlyStoredAsync(long jobsStored)
    {
        var after = await SnapshotAsync();
        Assert.Equal(_before.Schemas, after.Schemas);
        Assert.Equal(_before.Tables, after.Tables);
        Assert.Contains("forge.jobs", after.Tables);
        Assert.Equal(_before.Jobs + jobsStored, after.Jobs);
    }

    private async Task<Snapshot> SnapshotAsync()
    {
        var schemas = await ListAsync("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1");
        var tables = await ListAsync("SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
        return new Snapshot(schemas, tables, await CountAsync("jobs"));
    }

    private async Task<List<string>> ListAsync(string sql)
    {
        await using var command = _sql.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private Task<long> CountAsync(string table) => _sql.ScalarAsync<long>($"SELECT count(*) FROM {Schema}.{table}");

    private static string Shown(string value) => Serialization.StoredText.Show(value);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Timed out after 30 s waiting for {what}.");
            }
        }
    }

    private sealed record Snapshot(List<string> Schemas, List<string> Tables, long Jobs);
}

/// <summary>The hostile values, as constants so that <see cref="JobTypeAttribute"/> can carry them.</summary>
internal static class HostileValues
{
    public const string DropTable = "\"; DROP TABLE forge.jobs;--";
    public const string OrTrue = "' OR 1=1 --";
    public const string Long = Fifty + Fifty + Fifty + Fifty;
    public const string Empty = "";
    public const string Spaces = "   ";
    public const string Tab = "\t";
    public const string Unicode = "naïve-ünïcödé-名前";
    public const string Emoji = "emoji 🚀";
    public const string Nul = "a\u0000b";

    private const string Fifty = "abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVW";

    public static readonly IReadOnlyDictionary<string, string> ByLabel = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["drop-table"] = DropTable,
        ["or-true"] = OrTrue,
        ["200-chars"] = Long,
        ["empty"] = Empty,
        ["spaces"] = Spaces,
        ["tab"] = Tab,
        ["unicode"] = Unicode,
        ["emoji"] = Emoji,
        ["nul"] = Nul,
    };
}

/// <summary>One payload type per hostile value, named with it.</summary>
internal static class HostileTypes
{
    public static readonly IReadOnlyDictionary<string, HostileType> ByLabel = new Dictionary<string, HostileType>(StringComparer.Ordinal)
    {
        ["drop-table"] = new HostileType<DropTableJob>(),
        ["or-true"] = new HostileType<OrTrueJob>(),
        ["200-chars"] = new HostileType<LongJob>(),
        ["empty"] = new HostileType<EmptyJob>(),
        ["spaces"] = new HostileType<SpacesJob>(),
        ["tab"] = new HostileType<TabJob>(),
        ["unicode"] = new HostileType<UnicodeJob>(),
        ["emoji"] = new HostileType<EmojiJob>(),
        ["nul"] = new HostileType<NulJob>(),
    };

    [JobType(HostileValues.DropTable)] internal sealed record DropTableJob;
    [JobType(HostileValues.OrTrue)] internal sealed record OrTrueJob;
    [JobType(HostileValues.Long)] internal sealed record LongJob;
    [JobType(HostileValues.Empty)] internal sealed record EmptyJob;
    [JobType(HostileValues.Spaces)] internal sealed record SpacesJob;
    [JobType(HostileValues.Tab)] internal sealed record TabJob;
    [JobType(HostileValues.Unicode)] internal sealed record UnicodeJob;
    [JobType(HostileValues.Emoji)] internal sealed record EmojiJob;
    [JobType(HostileValues.Nul)] internal sealed record NulJob;
}

internal abstract class HostileType
{
    public abstract void Register(ForgeJobsBuilder forge);

    public abstract Task<JobId> EnqueueAsync(IJobClient client);
}

internal sealed class HostileType<TJob> : HostileType
    where TJob : new()
{
    public override void Register(ForgeJobsBuilder forge) => forge.AddHandler<HostileHandler<TJob>, TJob>();

    public override Task<JobId> EnqueueAsync(IJobClient client) => client.EnqueueAsync(new TJob(), new JobOptions { Queue = "parked" });
}

internal sealed record ParkedJob;

internal sealed record ProbeJob;

internal sealed class HostileHandler<TJob> : IJobHandler<TJob>
{
    public Task HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
