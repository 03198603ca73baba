using System.Diagnostics;
using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.TestHost;
using Forge.Jobs.Tests.Cluster;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Forge.Jobs.Tests.Diagnostics;

/// <summary>The trace context travels with the job through PostgreSQL: a job enqueued in this process and run by a node
/// in another (Forge.Jobs.TestHost, which prints each attempt span's link) links back to the enqueue span here.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class TracingAcrossProcessesTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string Schema = "tracing_processes";
    private readonly SpanRecorder _spans = new();
    private NpgsqlDataSource? _dataSource;
    private PostgresJobStore? _store;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _store = new PostgresJobStore(_dataSource, ownsDataSource: false, new PostgresStoreOptions { Schema = Schema }, new PostgresNotifier(_dataSource, ownsDataSource: false, NullLogger.Instance));
        await _store.InitializeAsync(default);
        await _dataSource.ExecuteAsync($"CREATE TABLE {Schema}_ledger (job_id bigint NOT NULL, attempt integer NOT NULL, node text NOT NULL, n integer NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        _spans.Dispose();
        await _store!.DisposeAsync();
        await _dataSource!.DisposeAsync();
    }

    [Fact]
    public async Task JobEnqueuedHere_RunByANodeInAnotherProcess_ItsAttemptSpanLinksToTheEnqueueSpanHere()
    {
        var client = new JobClient(_store!, new JobTypeRegistry(Options.Create(new ForgeJobsOptions())));
        JobId id;
        ActivityContext request;
        using (var requestSpan = SpanRecorder.App.StartActivity("POST /ledger", ActivityKind.Server))
        {
            request = requestSpan!.Context;
            id = await client.EnqueueAsync(new LedgerJob(1));
        }

        var send = Assert.Single(_spans.Stopped(span => span.Source.Name == "Forge.Jobs" && span.TraceId == request.TraceId));
        Assert.Equal(send.Id, await _dataSource!.ScalarAsync<string>($"SELECT trace_parent FROM {Schema}.jobs WHERE id = {id.Value}"));

        await using var node = await NodeProcess.StartAsync(database.ConnectionString, Schema, "tracing-node", concurrency: 1, maxWorkMilliseconds: 0, trace: true);
        var line = await Wait.For(node.LineAsync($"span {id.Value} "), $"node {node.NodeId} to report the attempt span of job {id}");
        await node.StopAsync();

        Assert.Equal($"span {id.Value} succeeded link {request.TraceId} {send.SpanId}", line);
        Assert.Equal(1L, await _dataSource!.ScalarAsync<long>($"SELECT count(*) FROM {Schema}_ledger WHERE job_id = {id.Value} AND node = 'tracing-node'"));
    }
}
