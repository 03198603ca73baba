using Forge.Jobs.Client;
using Forge.Jobs.Scheduling;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Configuration;

/// <summary>The rule of each kind of name or value, applied to hostile input: SQL punctuation, long, empty, blank,
/// control characters, Unicode. Each rule either refuses a value with a message that quotes it and states the rule,
/// or lets it through to be stored verbatim.</summary>
public sealed class NameRulesTests
{
    private static readonly Dictionary<string, string> Hostile = new(StringComparer.Ordinal)
    {
        ["drop-table"] = "\"; DROP TABLE forge.jobs;--",
        ["or-true"] = "' OR 1=1 --",
        ["200-chars"] = new string('x', 200),
        ["empty"] = "",
        ["spaces"] = "   ",
        ["tab"] = "\t",
        ["unicode"] = "naïve-ünïcödé-名前",
        ["emoji"] = "emoji 🚀",
        ["nul"] = "a\u0000b",
        ["lone-surrogate"] = "a\uD800b",
    };

    private readonly InMemoryJobStore _store = new(TimeProvider.System);

    public static TheoryData<string> HostileLabels => new(Hostile.Keys);

    [Theory]
    [MemberData(nameof(HostileLabels))]
    public void QueueJobTypeAndScheduleNames_RefuseEveryHostileValue(string label)
    {
        Assert.False(QueueNames.IsValid(Hostile[label]));
        Assert.False(JobTypeNames.IsValid(Hostile[label]));
        Assert.False(ScheduleNames.IsValid(Hostile[label]));
    }

    [Theory]
    [InlineData("drop-table", true)]
    [InlineData("or-true", true)]
    [InlineData("unicode", true)]
    [InlineData("emoji", true)]
    [InlineData("200-chars", false)]
    [InlineData("empty", false)]
    [InlineData("spaces", false)]
    [InlineData("tab", false)]
    [InlineData("nul", false)]
    [InlineData("lone-surrogate", false)]
    public void NodeIdsAndTags_KeepTextButRefuseLongBlankAndControlCharacters(string label, bool valid)
    {
        Assert.Equal(valid, NodeIds.IsValid(Hostile[label]));
        Assert.Equal(valid, JobTags.IsValid(Hostile[label]));
    }

    [Theory]
    [InlineData("drop-table", true)]
    [InlineData("or-true", true)]
    [InlineData("200-chars", true)]
    [InlineData("spaces", true)]
    [InlineData("tab", true)]
    [InlineData("unicode", true)]
    [InlineData("emoji", true)]
    [InlineData("empty", false)]
    [InlineData("nul", false)]
    [InlineData("lone-surrogate", false)]
    public void IdempotencyKeys_RefuseOnlyWhatCannotBeStored(string label, bool valid)
    {
        Assert.Equal(valid, IdempotencyKeys.IsValid(Hostile[label]));
    }

    [Fact]
    public void IdempotencyKeys_LongerThan255_AreRefused()
    {
        Assert.True(IdempotencyKeys.IsValid(new string('k', 255)));
        Assert.False(IdempotencyKeys.IsValid(new string('k', 256)));
        Assert.Contains("(256 characters) is not valid: use 1 to 255 characters", IdempotencyKeys.Describe(new string('k', 256)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("forge; drop")]
    [InlineData("Forge")]
    [InlineData("forge\"x")]
    [InlineData("")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890")]
    public void PostgresSchema_InvalidName_IsRefusedAndNeverQuoted(string schema)
    {
        Assert.False(PostgresSchema.IsValid(schema));
        var error = Assert.Throws<ArgumentException>(() => PostgresSchema.Quote(schema));
        Assert.Contains("is not valid: use lower-case letters, digits and '_', starting with a letter or '_', at most 58 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Show_EscapesControlCharactersAndLoneSurrogates_KeepsPairsAndCutsLongValues()
    {
        Assert.Equal("a\\u0000b\\u0009\\u000A", StoredText.Show("a\0b\t\n"));
        Assert.Equal("a\\uD800b", StoredText.Show("a\uD800b"));
        Assert.Equal("emoji 🚀", StoredText.Show("emoji 🚀"));
        Assert.Equal(new string('x', 256) + "... (1000 characters in all)", StoredText.Show(new string('x', 1000)));
    }

    [Fact]
    public void Describe_QuotesTheValueEscapedAndStatesTheRule()
    {
        Assert.Equal(
            "Queue name 'a\\u0000b' is not valid: use lower-case letters and digits, words joined by '_' or '-', at most 64 characters, for example \"emails\" or \"video-encode\".",
            QueueNames.Describe("a\0b"));
        Assert.StartsWith("Tag '\\u0009' is not valid: use 1 to 64 characters, not only white space, with no control characters", JobTags.Describe("\t"), StringComparison.Ordinal);
        Assert.StartsWith("Node id '   ' is not valid: use 1 to 128 characters, not only white space", NodeIds.Describe("   "), StringComparison.Ordinal);
    }

    [Fact]
    public void JobTypeAttribute_WithNullName_GivesAnInvalidNameRatherThanTheClassName()
    {
        Assert.Equal("", JobTypeNames.For<NullNamed>());
        Assert.False(JobTypeNames.IsValid(JobTypeNames.For<NullNamed>()));
    }

    [Theory]
    [InlineData("nul")]
    [InlineData("tab")]
    [InlineData("spaces")]
    [InlineData("200-chars")]
    public void Validator_NodeIdBreakingTheRule_FailsQuotingItAndTheRule(string label)
    {
        var result = new ForgeJobsOptionsValidator().Validate(null, new ForgeJobsOptions { NodeId = Hostile[label] });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"ForgeJobsOptions.NodeId: Node id '{StoredText.Show(Hostile[label])}' is not valid: use 1 to 128 characters", failure, StringComparison.Ordinal);
        Assert.EndsWith("Or leave it unset for a unique default.", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_NodeIdWithSqlAndUnicode_Passes()
    {
        Assert.True(new ForgeJobsOptionsValidator().Validate(null, new ForgeJobsOptions { NodeId = Hostile["drop-table"] + Hostile["unicode"] }).Succeeded);
    }

    [Fact]
    public void Validator_JobTypeQueueBreakingTheRule_StatesTheRuleRatherThanAskingToDeclareIt()
    {
        var options = new ForgeJobsOptions();
        options.Handlers.Add(new HandlerRegistration(typeof(PingHandler), typeof(Ping), "ping", new JobTypeOptions { Queue = Hostile["drop-table"] }, (r, j) => new JobInvoker<PingHandler, Ping>(r, j)));

        var failure = Assert.Single(new ForgeJobsOptionsValidator().Validate(null, options).Failures!);

        Assert.Equal($"AddHandler<PingHandler, Ping>: JobTypeOptions.Queue: {QueueNames.Describe(Hostile["drop-table"])}", failure);
    }

    [Fact]
    public void Validator_NullJobTypeQueue_FailsInsteadOfThrowing()
    {
        var options = new ForgeJobsOptions();
        options.Handlers.Add(new HandlerRegistration(typeof(PingHandler), typeof(Ping), "ping", new JobTypeOptions { Queue = null! }, (r, j) => new JobInvoker<PingHandler, Ping>(r, j)));

        Assert.Contains("JobTypeOptions.Queue: Queue name '' is not valid", Assert.Single(new ForgeJobsOptionsValidator().Validate(null, options).Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tab")]
    [InlineData("spaces")]
    [InlineData("nul")]
    [InlineData("200-chars")]
    public async Task Enqueue_TagBreakingTheRule_ThrowsAndStoresNothing(string label)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Client().EnqueueAsync(new Ping(1), new JobOptions { Tags = ["ok", Hostile[label]] }));

        Assert.Equal($"JobOptions.Tags: {JobTags.Describe(Hostile[label])}", error.Message[..error.Message.IndexOf(" (Parameter", StringComparison.Ordinal)]);
        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Theory]
    [InlineData("drop-table")]
    [InlineData("unicode")]
    [InlineData("emoji")]
    public async Task Enqueue_TagWithSqlOrUnicode_IsStoredVerbatimAndFound(string label)
    {
        var client = Client();
        var id = await client.EnqueueAsync(new Ping(1), new JobOptions { Tags = [Hostile[label]] });

        var found = Assert.Single(await client.ListJobsAsync(new JobQuery { Tag = Hostile[label] }));
        Assert.Equal((id, Hostile[label]), (found.Id, Assert.Single(found.Tags)));
    }

    [Theory]
    [InlineData("spaces")]
    [InlineData("tab")]
    [InlineData("200-chars")]
    public async Task Enqueue_IdempotencyKeyOfBlankOrLongText_IsKeptVerbatimAndDeduplicates(string label)
    {
        var client = Client();
        var first = await client.EnqueueAsync(new Ping(1), new JobOptions { IdempotencyKey = Hostile[label] });
        var second = await client.EnqueueAsync(new Ping(2), new JobOptions { IdempotencyKey = Hostile[label] });

        Assert.Equal(first, second);
        Assert.Equal(Hostile[label], (await client.GetJobAsync(first))!.IdempotencyKey);
    }

    [Theory]
    [InlineData("nul")]
    [InlineData("lone-surrogate")]
    public async Task Enqueue_IdempotencyKeyPostgresCannotHold_ThrowsAndStoresNothing(string label)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Client().EnqueueAsync(new Ping(1), new JobOptions { IdempotencyKey = Hostile[label] }));

        Assert.Contains("JobOptions.IdempotencyKey: Idempotency key 'a\\u", error.Message, StringComparison.Ordinal);
        Assert.Contains("with no NUL character (\\u0000) and no half of a surrogate pair", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task ListJobs_FilterBreakingItsRule_IsRefusedNamingTheFilter()
    {
        var client = Client();

        Assert.StartsWith("JobQuery.Queue: Queue name", (await Assert.ThrowsAsync<ArgumentException>(() => client.ListJobsAsync(new JobQuery { Queue = Hostile["drop-table"] }))).Message, StringComparison.Ordinal);
        Assert.StartsWith("JobQuery.Type: Job type name", (await Assert.ThrowsAsync<ArgumentException>(() => client.ListJobsAsync(new JobQuery { Type = Hostile["or-true"] }))).Message, StringComparison.Ordinal);
        Assert.StartsWith("JobQuery.Tag: Tag 'a\\u0000b'", (await Assert.ThrowsAsync<ArgumentException>(() => client.ListJobsAsync(new JobQuery { Tag = Hostile["nul"] }))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("nul")]
    [InlineData("200-chars")]
    public async Task DrainNode_IdBreakingTheRule_IsRefused(string label)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Client().DrainNodeAsync(Hostile[label]));

        Assert.Contains("is not valid: use 1 to 128 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DrainNode_UnknownIdWithSql_ReturnsFalse()
    {
        Assert.False(await Client().DrainNodeAsync(Hostile["drop-table"]));
    }

    [Theory]
    [InlineData("forge; drop")]
    [InlineData("Forge")]
    [InlineData("forge\"x")]
    public void UsePostgres_InvalidSchema_ThrowsAtOnceStatingTheRule(string schema)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f.UsePostgres("Host=localhost", o => o.Schema = schema)));

        Assert.Contains($"PostgresStoreOptions.Schema '{schema}' is not valid: use lower-case letters, digits and '_'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Password=s3cret;Frobnicate=yes")]
    [InlineData("Host=db;Password=s3cret;Port=not-a-number")]
    [InlineData("  ")]
    public void UsePostgres_InvalidListenConnectionString_ThrowsAtOnceWithoutQuotingIt(string listen)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f.UsePostgres("Host=localhost", o => o.ListenConnectionString = listen)));

        Assert.StartsWith("PostgresStoreOptions.ListenConnectionString is ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Or leave it unset to listen through the store's own connections.", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UsePostgres_InvalidConnectionString_ThrowsAtOnce()
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f.UsePostgres("Host=db;Password=s3cret;Frobnicate=yes")));

        Assert.StartsWith("UsePostgres: the connection string is not a valid Npgsql connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    private JobClient Client()
    {
        var options = new ForgeJobsOptions();
        return new JobClient(_store, new JobTypeRegistry(Options.Create(options)));
    }

    [JobType(null!)]
    private sealed record NullNamed;
}
