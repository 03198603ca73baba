using Forge.Jobs.Diagnostics;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Tests.Diagnostics;

/// <summary>The cluster gauges: read by the leader only, from the database every ClusterMetricsInterval.</summary>
public sealed class ClusterMetricsTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task TwoNodes_OnlyTheLeaderReportsQueueDepthsByStateDeadLettersAndLiveNodes()
    {
        const string Schema = "cluster_gauges";
        void Configure(ForgeJobsBuilder forge) => forge
            .Configure(o => o.ClusterMetricsInterval = TimeSpan.FromMilliseconds(100))
            .AddQueue("mail")
            .AddHandler<AlwaysFailsHandler, AlwaysFails>();
        await using var first = await TestNode.StartPostgresAsync(database.ConnectionString, Schema, Configure);
        await using var second = await TestNode.StartPostgresAsync(database.ConnectionString, Schema, Configure);
        using var firstMeter = new MeterRecorder(first.Services.GetRequiredService<ForgeJobsMetrics>().Meter);
        using var secondMeter = new MeterRecorder(second.Services.GetRequiredService<ForgeJobsMetrics>().Meter);
        await first.Client.EnqueueManyAsync([new AlwaysFails(), new AlwaysFails()], new JobOptions { Queue = "mail", RunAt = DateTimeOffset.UtcNow.AddHours(1) });
        var dead = await first.Client.EnqueueAsync(new AlwaysFails(), new JobOptions { MaxRetries = 0 });
        await Wait.For(UntilAsync(async () => (await first.Client.GetJobAsync(dead))!.State == JobState.Dead), "the failing job to die");

        var leader = (await first.Client.ListNodesAsync()).Single(n => n.IsLeader).Id == first.Node.NodeId ? firstMeter : secondMeter;
        var follower = leader == firstMeter ? secondMeter : firstMeter;
        await Wait.For(UntilAsync(() =>
        {
            leader.Observe();
            return Task.FromResult(Last(leader, "forge.jobs.dead_letter.size", "default") == 1 && Last(leader, "forge.jobs.nodes.live") == 2);
        }), "the leader's gauges to show the dead job and both nodes");
        follower.Observe();

        Assert.Equal(2, Last(leader, "forge.jobs.queue.depth", "mail", "scheduled"));
        Assert.Equal(0, Last(leader, "forge.jobs.queue.depth", "mail", "available"));
        Assert.Equal(1, Last(leader, "forge.jobs.queue.depth", "default", "dead"));
        Assert.Equal(0, Last(leader, "forge.jobs.dead_letter.size", "mail"));
        Assert.Empty(follower.Of("forge.jobs.queue.depth"));
        Assert.Empty(follower.Of("forge.jobs.nodes.live"));
    }

    // The value of the last reading of a gauge's series, or -1 when it has none.
    private static double Last(MeterRecorder meter, string instrument, string? queue = null, string? state = null) =>
        meter.Of(instrument).LastOrDefault(m => (queue is null || m.Has("queue", queue)) && (state is null || m.Has("state", state)))?.Value ?? -1;

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        while (!await condition())
        {
            await Task.Delay(20);
        }
    }
}
