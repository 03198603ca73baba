using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Forge.Jobs;
using Forge.Jobs.Processing;
using Forge.Jobs.Reliability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// Usage: Forge.Jobs.Reliability.Host <NodeSettings as JSON>
// Runs one node until SIGTERM. Prints "ready {port}" once the node has started; a connection to that loopback port
// gets one line of what the node holds (NodeLoad).
var settings = NodeSettings.FromJson(args[0]);
var library = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { ApplicationName = settings.NodeId }.ConnectionString;

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(settings.ShutdownMilliseconds) + TimeSpan.FromSeconds(30));
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(new Ledger(NpgsqlDataSource.Create(settings.LedgerConnectionString), settings));
builder.Services.AddSingleton(new LibraryDataSource(NpgsqlDataSource.Create(library)));
if (settings.ClockOffsetSeconds != 0)
{
    builder.Services.AddSingleton<TimeProvider>(new ShiftedClock(TimeSpan.FromSeconds(settings.ClockOffsetSeconds)));
}

builder.Services.AddForgeJobs(forge =>
{
    forge.UsePostgres(library, o =>
        {
            o.Schema = settings.Schema;
            o.PollOnly = settings.PollOnly;
            o.ListenConnectionString = settings.ListenConnectionString;
            o.CommandTimeout = TimeSpan.FromMilliseconds(settings.CommandTimeoutMilliseconds);
        })
        .Configure(o =>
        {
            o.NodeId = settings.NodeId;
            o.LeaseDuration = TimeSpan.FromMilliseconds(settings.LeaseMilliseconds);
            o.LeaseRenewInterval = TimeSpan.FromMilliseconds(settings.RenewMilliseconds);
            o.RescueInterval = TimeSpan.FromMilliseconds(settings.RescueMilliseconds);
            o.PollInterval = TimeSpan.FromMilliseconds(settings.PollMilliseconds);
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(settings.ShutdownMilliseconds);
            o.MaxClaimBytes = settings.MaxClaimBytes ?? o.MaxClaimBytes;
            if (settings.SucceededRetentionMilliseconds is { } retention)
            {
                o.SucceededRetention = TimeSpan.FromMilliseconds(retention);
            }
        })
        .AddHandler<WorkHandler, WorkJob>()
        .AddHandler<FailFastHandler, FailFastJob>()
        .AddHandler<TransactionalHandler, TransactionalJob>()
        .AddHandler<UntilHandler, UntilJob>();
    foreach (var (name, concurrency) in settings.Queues)
    {
        forge.AddQueue(name, q => q.Concurrency = concurrency);
    }

    if (settings.Cron is not null)
    {
        forge.AddRecurring("tick", settings.Cron, new WorkJob());
    }
});

using var host = builder.Build();
await host.StartAsync();
var node = (JobProcessor)host.Services.GetRequiredService<IJobNode>();
using var control = new TcpListener(IPAddress.Loopback, 0);
control.Start();
_ = AnswerLoadAsync(control, node);
Console.WriteLine($"ready {((IPEndPoint)control.LocalEndpoint).Port}");
await host.WaitForShutdownAsync();
Console.WriteLine("stopped");

// Each connection to the control port gets one line, "{held slots} {running} {queued outcomes}", and is closed.
static async Task AnswerLoadAsync(TcpListener control, JobProcessor node)
{
    while (true)
    {
        using var client = await control.AcceptTcpClientAsync();
        var load = node.Load;
        try
        {
            await using var writer = new StreamWriter(client.GetStream());
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{load.HeldSlots} {load.Running} {load.QueuedOutcomes}"));
        }
        catch (IOException)
        {
            // The test went away.
        }
    }
}
