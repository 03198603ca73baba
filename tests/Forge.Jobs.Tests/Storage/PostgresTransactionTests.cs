using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Forge.Jobs.Tests.Storage;

/// <summary>Enqueue and completion inside the caller's own PostgreSQL transaction, through a real node.</summary>
public sealed class PostgresTransactionTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private static int _schemas;
    private readonly string _schema = $"tx_{Interlocked.Increment(ref _schemas)}";
    private readonly Recorder _recorder = new();
    private NpgsqlDataSource? _dataSource;
    private TestNode? _node;

    private NpgsqlDataSource DataSource => _dataSource!;

    private IJobClient Client => _node!.Client;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _node = await TestNode.StartPostgresAsync(database.ConnectionString, _schema, f => f.AddHandler<OrderHandler, PlaceOrder>(t => t.MaxRetries = 0), s => s.AddSingleton(_dataSource).AddSingleton(_recorder).AddSingleton(new OrderTable($"{_schema}_orders")));
        await DataSource.ExecuteAsync($"CREATE TABLE {_schema}_orders (id integer PRIMARY KEY)");
    }

    public async Task DisposeAsync()
    {
        await _node!.DisposeAsync();
        await _dataSource!.DisposeAsync();
    }

    [Fact]
    public async Task Enqueue_InATransactionThatRollsBack_LeavesNoJob()
    {
        await using (var connection = await DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Client.EnqueueAsync(new PlaceOrder(1, Fail: false), new JobOptions { Delay = TimeSpan.FromHours(1) }, transaction);
            await transaction.RollbackAsync();
        }

        Assert.Empty(await Client.ListJobsAsync(new JobQuery()));
    }

    [Fact]
    public async Task Enqueue_InATransactionThatCommits_LeavesExactlyOneJobThatRuns()
    {
        JobId id;
        await using (var connection = await DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            id = await Client.EnqueueAsync(new PlaceOrder(2, Fail: false), null, transaction);
            Assert.Null(await Client.GetJobAsync(id));
            await transaction.CommitAsync();
        }

        await UntilStateAsync(id, JobState.Succeeded);
        Assert.Equal(id, Assert.Single(await Client.ListJobsAsync(new JobQuery())).Id);
    }

    [Fact]
    public async Task Complete_InTheHandlersTransaction_CommitsTheSideEffectAndTheSuccessTogether()
    {
        var id = await Client.EnqueueAsync(new PlaceOrder(3, Fail: false));

        await UntilStateAsync(id, JobState.Succeeded);

        Assert.Equal(1L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}_orders WHERE id = 3"));
        Assert.Equal(AttemptOutcome.Succeeded, Assert.Single(await Client.GetAttemptsAsync(id)).Outcome);
    }

    [Fact]
    public async Task Complete_InTheHandlersTransaction_KeepsTheLinesLoggedBeforeItInTheHistory()
    {
        var id = await Client.EnqueueAsync(new PlaceOrder(5, Fail: false));

        await UntilStateAsync(id, JobState.Succeeded);

        var line = Assert.Single(Assert.Single(await Client.GetAttemptsAsync(id)).Logs);
        Assert.Equal("placing order 5", line.Message);
    }

    [Fact]
    public async Task Complete_InATransactionThatThenFails_RollsBackBoth()
    {
        var id = await Client.EnqueueAsync(new PlaceOrder(4, Fail: true));

        await UntilStateAsync(id, JobState.Dead);

        Assert.Equal(0L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}_orders WHERE id = 4"));
        Assert.Equal(AttemptOutcome.Failed, Assert.Single(await Client.GetAttemptsAsync(id)).Outcome);
    }

    /// <summary>Waits for the node to move the job to <paramref name="state"/>, re-reading it every 20 ms.</summary>
    private async Task UntilStateAsync(JobId id, JobState state)
    {
        await Wait.For(Task.Run(async () =>
        {
            while ((await Client.GetJobAsync(id))?.State != state)
            {
                await Task.Delay(20);
            }
        }), $"job {id} to be {state.ToName()}");
    }
}

internal sealed record PlaceOrder(int OrderId, bool Fail);

internal sealed record OrderTable(string Name);

/// <summary>Writes an order row and completes the job in the same transaction; optionally fails before committing.</summary>
internal sealed partial class OrderHandler(NpgsqlDataSource dataSource, OrderTable table, Recorder recorder) : IJobHandler<PlaceOrder>
{
    public async Task HandleAsync(PlaceOrder job, JobContext context, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand($"INSERT INTO {table.Name} (id) VALUES ($1)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = job.OrderId });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        Placing(context.Logger, job.OrderId);
        await context.CompleteAsync(transaction, cancellationToken);
        Placed(context.Logger, job.OrderId);
        recorder.Ran(job.OrderId);
        if (job.Fail)
        {
            throw new InvalidOperationException("failed after completing, before committing");
        }

        await transaction.CommitAsync(cancellationToken);
    }

    [LoggerMessage(1, LogLevel.Information, "placing order {OrderId}")]
    private static partial void Placing(ILogger logger, int orderId);

    [LoggerMessage(2, LogLevel.Information, "placed order {OrderId}")]
    private static partial void Placed(ILogger logger, int orderId);
}
