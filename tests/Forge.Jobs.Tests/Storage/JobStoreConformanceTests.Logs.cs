using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The log lines of an attempt travel with its completion and come back with the job's history.</summary>
public abstract partial class JobStoreConformanceTests
{
    private static readonly DateTimeOffset LoggedAt = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    [Fact]
    public async Task Attempts_KeepTheLogLinesOfFailedAndSucceededAttempts()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        JobLogLine[] failedLines =
        [
            new(LoggedAt, LogLevel.Information, "charging card 42", null),
            new(LoggedAt.AddMilliseconds(1), LogLevel.Error, "card declined: \"insufficient funds\" <é ✓ 😀>", "System.InvalidOperationException: declined\n   at Pay()"),
        ];
        JobLogLine[] succeededLines = [new(LoggedAt.AddSeconds(1), LogLevel.Warning, "charged on the second try", null)];
        var first = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(first.Id, NodeA, 1, CompletionOutcome.Retry, Error: "declined", RetryDelay: TimeSpan.Zero, Logs: failedLines));
        var second = Assert.Single(await ClaimAsync(NodeB));
        await CompleteAsync(new Completion(second.Id, NodeB, 2, CompletionOutcome.Succeeded, Logs: succeededLines));

        var attempts = await Store.GetAttemptsAsync(id, default);

        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Succeeded], attempts.Select(a => a.Outcome));
        Assert.Equal(failedLines, attempts[0].Logs);
        Assert.Equal(succeededLines, attempts[1].Logs);
    }

    [Fact]
    public async Task Attempts_InABatchWhereOnlySomeLogged_EachKeepsItsOwnLines()
    {
        var ids = await InsertAsync(TestJobs.New(), TestJobs.New(), TestJobs.New());
        var claimed = (await ClaimAsync(NodeA, limit: 3)).OrderBy(j => j.Id).ToArray();
        JobLogLine[] lines = [new(LoggedAt, LogLevel.Information, "only the middle one logs", null)];

        Assert.Empty(await CompleteAsync(
            Succeeded(claimed[0]),
            new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Dead, Error: "boom", Logs: lines),
            new Completion(claimed[2].Id, NodeA, 1, CompletionOutcome.Cancelled, Error: "cancelled")));

        Assert.Empty(Assert.Single(await Store.GetAttemptsAsync(ids[0], default)).Logs);
        Assert.Equal(lines, Assert.Single(await Store.GetAttemptsAsync(ids[1], default)).Logs);
        Assert.Empty(Assert.Single(await Store.GetAttemptsAsync(ids[2], default)).Logs);
    }

    [Fact]
    public async Task Attempts_ABoundedLog_RoundTripsWithTheLineThatCountsWhatWasDropped()
    {
        var log = new AttemptLog(NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < AttemptLog.MaxLines + 50; i++)
        {
            Forge.Jobs.Tests.Processing.AttemptLogTests.Write(log, LogLevel.Information, $"line {i}");
        }

        var lines = log.ToLines()!;
        var id = (await InsertAsync(TestJobs.New()))[0];
        var job = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(job.Id, NodeA, 1, CompletionOutcome.Succeeded, Logs: lines));

        var stored = Assert.Single(await Store.GetAttemptsAsync(id, default)).Logs;

        Assert.Equal(AttemptLog.MaxLines + 1, stored.Count);
        Assert.Equal(lines, stored);
        Assert.Equal("line 0", stored[0].Message);
        Assert.Equal((LogLevel.Warning, true), (stored[^1].Level, stored[^1].Message.Contains("50 later lines were dropped", StringComparison.Ordinal)));
    }
}
