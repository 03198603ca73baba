using Forge.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quickstart;

var builder = Host.CreateApplicationBuilder();
// The failure on the first attempt is expected here; keep the console to what the sample prints.
builder.Logging.AddFilter("Forge.Jobs", LogLevel.Error).AddFilter("Microsoft", LogLevel.Warning);
// PostgreSQL when a connection string is given (argument or FORGE_PG), else the in-memory default.
var connectionString = args.FirstOrDefault() ?? Environment.GetEnvironmentVariable("FORGE_PG");
builder.Services.AddForgeJobs(forge =>
{
    if (!string.IsNullOrWhiteSpace(connectionString))
    {
        forge.UsePostgres(connectionString);
    }

    forge.AddQueue("emails", queue => queue.Concurrency = 4);
    forge.AddHandler<SendEmailHandler, SendEmail>(type => type.Queue = "emails");
    forge.AddHandler<BuildReportHandler, BuildReport, ReportSummary>(type =>
        type.Backoff = new RetryBackoff { InitialDelay = TimeSpan.FromSeconds(1) });
});

using var host = builder.Build();
await host.StartAsync();
var jobs = host.Services.GetRequiredService<IJobClient>();

Console.WriteLine(string.IsNullOrWhiteSpace(connectionString) ? "Store: in memory" : "Store: PostgreSQL");
Console.WriteLine("Enqueueing jobs...");
var ids = new List<JobId>();
ids.AddRange(await jobs.EnqueueManyAsync(
[
    new SendEmail("ada@example.com", "Welcome"),
    new SendEmail("grace@example.com", "Welcome"),
    new SendEmail("linus@example.com", "Welcome"),
]));
ids.Add(await jobs.EnqueueAsync(new SendEmail("ops@example.com", "Outage resolved"), new JobOptions { Priority = JobPriority.Critical }));
ids.Add(await jobs.EnqueueAsync(new SendEmail("ada@example.com", "How is it going?"), new JobOptions { Delay = TimeSpan.FromSeconds(3) }));
var report = await jobs.EnqueueAsync(new BuildReport("2026-10"));
ids.Add(report);

var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
IReadOnlyList<JobInfo> states;
while (true)
{
    states = await Task.WhenAll(ids.Select(async id => (await jobs.GetJobAsync(id))!));
    Console.WriteLine("Progress: " + string.Join(", ", states.GroupBy(j => j.State).Select(g => $"{g.Count()} {g.Key.ToName()}")));
    if (states.All(j => j.State.IsTerminal()) || DateTimeOffset.UtcNow > deadline)
    {
        break;
    }

    await Task.Delay(TimeSpan.FromMilliseconds(500));
}

Console.WriteLine();
Console.WriteLine("Final states:");
foreach (var job in states)
{
    Console.WriteLine($"  job {job.Id,-3} {job.Type,-13} {job.State.ToName(),-10} after {job.Attempt} attempt(s)");
}

var summary = await jobs.GetResultAsync<ReportSummary>(report);
Console.WriteLine($"Report result: {summary!.Orders} orders in {summary.Month}");

await host.StopAsync();
return states.All(j => j.State == JobState.Succeeded) ? 0 : 1;
