using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 9: large payloads. 1,000 jobs of about 1 MB (under the 1 MiB default of
/// <see cref="ForgeJobsOptions.MaxPayloadBytes"/>) all succeed on two nodes; a payload over the limit is refused at enqueue
/// with an error naming the option, and nothing of its call is stored; every claim takes at most
/// <see cref="ForgeJobsOptions.MaxClaimBytes"/> of payloads although the node has more free slots; and each node's memory
/// stays bounded by what its slots and one claim hold. Left alone, .NET's garbage collector on a machine with plenty of
/// memory lets the heap grow far past what is live (about 400 MiB here), so each node's heap is capped, as a container's
/// memory limit caps it, at a few times what it holds: a node that kept more than that would fail its jobs.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class LargePayloadTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Jobs = 1_000;
    private const int PaddingLength = 1_000_000;
    private const int Chunk = 25;
    private const long MiB = 1 << 20;

    /// <summary>Each node runs up to 16 jobs at once, so that the byte budget, not the free slots, ends its claims.</summary>
    private const int Concurrency = 16;

    /// <summary>8 MiB: eight of these jobs, half of a node's slots.</summary>
    private const int ClaimBytes = 8 << 20;

    /// <summary>The payload bytes a node holds at most: a job in each slot, each at most the payload limit, and one claim
    /// on its way in; 24 MiB, three times <see cref="ClaimBytes"/>.</summary>
    private const long HeldPayloadBytes = (Concurrency * (long)JobDefaults.MaxPayloadBytes) + ClaimBytes;

    /// <summary>The node's heap cap, 144 MiB: each held JSON byte lives as UTF-16 text twice (the claimed payload and the
    /// deserialized record), and is transcoded on the way in; 4 times the held bytes was found too tight (a job now and
    /// then failed with an <see cref="OutOfMemoryException"/>).</summary>
    private const long HeapLimit = 6 * HeldPayloadBytes;

    /// <summary>How far a node's peak resident memory may rise over its peak when it became ready: the heap cap, and a
    /// third as much again for the heap's bookkeeping and native buffers; 192 MiB, 24 times <see cref="ClaimBytes"/>.</summary>
    private const long Growth = 8 * HeldPayloadBytes;

    [FullSetFact]
    public async Task MegabytePayloads_AllSucceed_OverLimitIsRefused_ClaimsAreBoundedInBytes_NodeMemoryStaysBounded()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var padding = new string('x', PaddingLength);
        var over = new WorkJob(Padding: new string('x', JobDefaults.MaxPayloadBytes));

        var one = await Assert.ThrowsAsync<ArgumentException>(() => scenario.Client.EnqueueAsync(over));
        var many = await Assert.ThrowsAsync<ArgumentException>(() => scenario.Client.EnqueueManyAsync([new WorkJob(Padding: padding), over]));

        Assert.Contains("over ForgeJobsOptions.MaxPayloadBytes (1,048,576)", one.Message, StringComparison.Ordinal);
        Assert.Contains("over ForgeJobsOptions.MaxPayloadBytes (1,048,576)", many.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs"));

        var nodes = await scenario.StartNodesAsync(2, s => s with
        {
            Queues = new Dictionary<string, int> { ["default"] = Concurrency },
            MaxClaimBytes = ClaimBytes,
            GcHeapHardLimitBytes = HeapLimit,
        });
        var baseline = nodes.ToDictionary(n => n.NodeId, PeakResidentBytes);
        var started = DateTime.UtcNow;
        for (var i = 0; i < Jobs; i += Chunk)
        {
            scenario.Track(await scenario.Client.EnqueueManyAsync(Enumerable.Range(0, Chunk).Select(_ => new WorkJob(100, Padding: padding))));
        }

        var enqueued = DateTime.UtcNow - started;
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(10));
        var ran = DateTime.UtcNow - started;
        var peaks = nodes.ToDictionary(n => n.NodeId, PeakResidentBytes);

        Assert.Equal(Jobs, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded' AND attempt = 1"));
        Assert.Equal(2L, await scenario.CountAsync("SELECT count(DISTINCT lease_owner) FROM {schema}.jobs"));
        var payloadBytes = await scenario.CountAsync("SELECT max(payload_bytes)::bigint FROM {schema}.jobs");
        Assert.InRange(payloadBytes, PaddingLength, JobDefaults.MaxPayloadBytes);

        // A claim stamps its jobs with its lease owner and its transaction's time: each group is one claim.
        const string Claims = "SELECT count(*) AS n, sum(payload_bytes) AS bytes FROM {schema}.jobs GROUP BY lease_owner, attempted_at";
        var claims = await scenario.CountAsync($"SELECT count(*) FROM ({Claims}) AS c");
        var largestClaim = await scenario.CountAsync($"SELECT max(n) FROM ({Claims}) AS c");
        var claimBytes = await scenario.CountAsync($"SELECT max(bytes)::bigint FROM ({Claims}) AS c");
        Assert.InRange(claimBytes, 0, ClaimBytes);
        Assert.Equal(ClaimBytes / payloadBytes, largestClaim);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"payload {payloadBytes:N0} bytes; enqueued in {enqueued.TotalSeconds:F1} s, all succeeded after {ran.TotalSeconds:F1} s; {claims} claims, the largest {largestClaim} jobs and {claimBytes:N0} bytes"));
        foreach (var node in nodes)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{node.NodeId}: VmHWM {baseline[node.NodeId] / MiB} MiB when ready, {peaks[node.NodeId] / MiB} MiB after the run (heap cap {HeapLimit / MiB} MiB, growth {(peaks[node.NodeId] - baseline[node.NodeId]) / MiB} MiB of at most {Growth / MiB} MiB)"));
        }

        Assert.All(nodes, node => Assert.InRange(peaks[node.NodeId] - baseline[node.NodeId], 0, Growth));
        await scenario.CheckAsync();
    }

    /// <summary>The process's peak resident set (VmHWM), in bytes.</summary>
    private static long PeakResidentBytes(NodeProcess node)
    {
        var line = File.ReadLines($"/proc/{node.Pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
