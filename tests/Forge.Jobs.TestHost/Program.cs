using Forge.Jobs;
using Forge.Jobs.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// Usage: Forge.Jobs.TestHost <connection string> <schema> <node id> <concurrency> <max work ms> [trace]
// Runs one node until SIGTERM. Each LedgerJob inserts a ledger row on its own connection, then works for up to
// <max work ms>. Prints "ready" once the node has started. With "trace", listens to the Forge.Jobs activity source and
// prints a line per finished attempt span: "span <job id> <outcome> link <trace id> <span id>" (link "none" if it has none).
var (connectionString, schema, nodeId) = (args[0], args[1], args[2]);
var concurrency = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
var maxWork = int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
using var spans = args is [.., "trace"] ? AttemptSpans.Print() : null;

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));
builder.Services.AddSingleton(new LedgerSettings(schema, nodeId, maxWork));
builder.Services.AddForgeJobs(forge => forge
    .UsePostgres(connectionString, o => o.Schema = schema)
    .Configure(o =>
    {
        o.NodeId = nodeId;
        o.LeaseDuration = TimeSpan.FromSeconds(6);
        o.LeaseRenewInterval = TimeSpan.FromSeconds(2);
        o.RescueInterval = TimeSpan.FromSeconds(1);
    })
    .AddQueue("default", q => q.Concurrency = concurrency)
    .AddHandler<LedgerHandler, LedgerJob>());

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");
await host.WaitForShutdownAsync();
