using Forge.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Benchmarks;

/// <summary>A typical job payload: a few short strings, an id, a time and a short list (about 250 bytes of JSON).</summary>
[JobType("send_email")]
public sealed record SendEmail(string To, string Subject, string Template, Guid CorrelationId, DateTimeOffset RequestedAt, IReadOnlyList<string> Cc)
{
    public static SendEmail Sample(int n) => new(
        $"user{n}@example.com",
        "Your weekly report is ready",
        "weekly-report",
        new Guid(n, 7, 11, 1, 2, 3, 4, 5, 6, 7, 8),
        new DateTimeOffset(2025, 3, 14, 9, 30, 0, TimeSpan.Zero).AddSeconds(n),
        ["finance@example.com"]);
}

public sealed class SendEmailHandler : IJobHandler<SendEmail>
{
    public Task HandleAsync(SendEmail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The services of a node that handles <see cref="SendEmail"/> on the queue "emails"; nothing is started.</summary>
internal static class SendEmailServices
{
    public const string Queue = "emails";

    public static ServiceProvider Build()
    {
        var services = new ServiceCollection();
        services.AddForgeJobs(forge => forge
            .AddQueue(Queue)
            .AddHandler<SendEmailHandler, SendEmail>(o => o.Queue = Queue));
        return services.BuildServiceProvider();
    }
}
