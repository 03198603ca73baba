using Forge.Jobs;

namespace Quickstart;

[JobType("send_email")]
public sealed record SendEmail(string To, string Subject);

public sealed class SendEmailHandler : IJobHandler<SendEmail>
{
    public async Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
        Console.WriteLine($"  sent '{job.Subject}' to {job.To} (job {context.JobId})");
    }
}

[JobType("build_report")]
public sealed record BuildReport(string Month);

public sealed record ReportSummary(string Month, int Orders);

/// <summary>Fails its first attempt, as if a dependency were briefly down, then succeeds on the retry.</summary>
public sealed class BuildReportHandler : IJobHandler<BuildReport, ReportSummary>
{
    public Task<ReportSummary> HandleAsync(BuildReport job, JobContext context, CancellationToken cancellationToken)
    {
        if (context.Attempt == 1)
        {
            Console.WriteLine($"  report for {job.Month}: attempt 1 fails (the warehouse is not answering)");
            throw new TimeoutException("The warehouse did not answer in time.");
        }

        Console.WriteLine($"  report for {job.Month}: attempt {context.Attempt} succeeds");
        return Task.FromResult(new ReportSummary(job.Month, Orders: 1_284));
    }
}
