using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Tests.Processing;

/// <summary>A job's history through a real node: each attempt with its outcome, its error and the lines its handler logged.</summary>
public sealed class AttemptHistoryTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly RetryBackoff Quick = new() { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1), Jitter = 0 };

    [Fact]
    public async Task History_JobThatFailsTwiceThenSucceeds_ShowsThreeAttemptsWithTheirErrorsAndLines_OnPostgres()
    {
        await using var node = await TestNode.StartPostgresAsync(database.ConnectionString, "history", Configure);

        await AssertHistoryAsync(node.Client);
    }

    [Fact]
    public async Task History_JobThatFailsTwiceThenSucceeds_ShowsThreeAttemptsWithTheirErrorsAndLines_InMemory()
    {
        await using var node = await TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), Configure);

        await AssertHistoryAsync(node.Client);
    }

    private static void Configure(ForgeJobsBuilder forge) => forge
        .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(100))
        .AddHandler<DeclinedTwiceHandler, DeclinedTwice>(t => t.Backoff = Quick);

    private static async Task AssertHistoryAsync(IJobClient client)
    {
        var id = await client.EnqueueAsync(new DeclinedTwice(Card: 42));
        await Wait.For(UntilSucceededAsync(client, id), $"job {id} to succeed on its third attempt");

        var attempts = await client.GetAttemptsAsync(id);

        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Failed, AttemptOutcome.Succeeded], attempts.Select(a => a.Outcome));
        for (var i = 0; i < 2; i++)
        {
            var attempt = attempts[i];
            Assert.StartsWith($"System.InvalidOperationException: card 42 declined on attempt {attempt.Attempt}", attempt.Error, StringComparison.Ordinal);
            Assert.Contains($"at {typeof(DeclinedTwiceHandler).FullName}.HandleAsync", attempt.Error, StringComparison.Ordinal);
            var line = Assert.Single(attempt.Logs);
            Assert.Equal((LogLevel.Information, $"charging card 42, attempt {attempt.Attempt}", (string?)null), (line.Level, line.Message, line.Exception));
            Assert.InRange(line.At, attempt.StartedAt.AddMinutes(-1), attempt.FinishedAt.AddMinutes(1));
        }

        Assert.Null(attempts[2].Error);
        var success = Assert.Single(attempts[2].Logs);
        Assert.Equal((LogLevel.Information, "charging card 42, attempt 3"), (success.Level, success.Message));
        Assert.True(attempts[0].Logs[0].At <= attempts[1].Logs[0].At && attempts[1].Logs[0].At <= success.At);
    }

    private static async Task UntilSucceededAsync(IJobClient client, JobId id)
    {
        while ((await client.GetJobAsync(id))?.State != JobState.Succeeded)
        {
            await Task.Delay(20);
        }
    }
}

internal sealed record DeclinedTwice(int Card);

/// <summary>Logs a line on every attempt; its first two attempts fail.</summary>
internal sealed partial class DeclinedTwiceHandler : IJobHandler<DeclinedTwice>
{
    public Task HandleAsync(DeclinedTwice job, JobContext context, CancellationToken cancellationToken)
    {
        Charging(context.Logger, job.Card, context.Attempt);
        return context.Attempt <= 2
            ? throw new InvalidOperationException($"card {job.Card} declined on attempt {context.Attempt}")
            : Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "charging card {Card}, attempt {Attempt}")]
    private static partial void Charging(ILogger logger, int card, int attempt);
}
