using BenchmarkDotNet.Attributes;
using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Benchmarks;

/// <summary>The client-side work of the PostgreSQL store's batched statements, without a server: the completion
/// statement's column arrays (<see cref="CompletionParameters.From"/>), and for inserts <see cref="InsertPlan.For"/>
/// and <see cref="InsertPlan.InsertCommand"/>. Each invocation handles <see cref="Jobs"/> jobs in batches of
/// <see cref="BatchSize"/>, so the figures are per job.</summary>
[MemoryDiagnoser]
public class StoreBatchBuildingBenchmarks
{
    public const int Jobs = 1_000;

    /// <summary>An exception's text as the executor stores it: message and stack trace, about 1.7 KB.</summary>
    private static readonly string FailureText =
        "System.Net.Http.HttpRequestException: Connection refused (mail.example.com:587)\n" +
        string.Concat(Enumerable.Range(0, 12).Select(i => $"   at Example.Mail.SmtpSender.SendAsync{i}(MailMessage message, CancellationToken cancellationToken) in /src/Mail/SmtpSender.cs:line {100 + i}\n"));

    private Completion[][] _completions = [];
    private NewJob[][] _newJobs = [];
    private NewJob[][] _taggedJobs = [];
    private InsertPlan[] _plans = [];
    private InsertPlan[] _taggedPlans = [];
    private string _insertSql = "";

    [Params(1, 100)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var services = SendEmailServices.Build();
        var registry = services.GetRequiredService<JobTypeRegistry>();
        var plain = new JobOptions { Priority = JobPriority.High };
        var tagged = new JobOptions { Priority = JobPriority.High, Tags = ["newsletter", "weekly"] };
        _completions = Batches(Enumerable.Range(1, Jobs).Select(TypicalCompletion));
        _newJobs = Batches(Enumerable.Range(1, Jobs).Select(n => NewJobs.Create(SendEmail.Sample(n), plain, registry)));
        _taggedJobs = Batches(Enumerable.Range(1, Jobs).Select(n => NewJobs.Create(SendEmail.Sample(n), tagged, registry)));
        _plans = [.. _newJobs.Select(InsertPlan.For)];
        _taggedPlans = [.. _taggedJobs.Select(InsertPlan.For)];
        _insertSql = new PostgresStatements(PostgresSchema.Quote("forge")).Insert;
    }

    /// <summary>Nine in ten attempts succeed without a result; the tenth fails with an exception's text and retries.</summary>
    private static Completion TypicalCompletion(int n) => n % 10 == 0
        ? new Completion(new JobId(n), "node-1", 1, CompletionOutcome.Retry, Error: FailureText, RetryDelay: TimeSpan.FromSeconds(2))
        : new Completion(new JobId(n), "node-1", 1, CompletionOutcome.Succeeded);

    private T[][] Batches<T>(IEnumerable<T> items) => [.. items.Chunk(BatchSize)];

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int CompletionArrays()
    {
        var rows = 0;
        foreach (var batch in _completions)
        {
            rows += CompletionParameters.From(batch).Ids.Length;
        }

        return rows;
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int InsertPlanFor()
    {
        var rows = 0;
        foreach (var batch in _newJobs)
        {
            rows += InsertPlan.For(batch).Rows.Count;
        }

        return rows;
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int InsertCommand()
    {
        var parameters = 0;
        foreach (var plan in _plans)
        {
            parameters += plan.InsertCommand(_insertSql).Parameters.Count;
        }

        return parameters;
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int InsertCommandTwoTags()
    {
        var parameters = 0;
        foreach (var plan in _taggedPlans)
        {
            parameters += plan.InsertCommand(_insertSql).Parameters.Count;
        }

        return parameters;
    }
}
