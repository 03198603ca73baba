using System.Globalization;

namespace Forge.Jobs.LoadTest;

/// <summary>The node side of a run (mode <c>node</c>, started by the coordinator, not by hand). It talks over its
/// standard streams: it prints <c>ready</c> once warmed up, starts its engine on the line <c>go</c>, prints
/// <c>started N</c> as its handlers start jobs, and on <c>stop</c> stops the engine gracefully, writes its latency
/// samples to the <c>--samples</c> file and prints <c>done rss_mb=… allocated=…</c>. Logs go to standard error.</summary>
internal static class NodeProgram
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var system = arguments.Text("system") ?? "forge";
        var connection = arguments.Text("connection") ?? throw new UsageException("node needs --connection.");
        var schema = arguments.Text("schema") ?? throw new UsageException("node needs --schema.");
        var concurrency = arguments.Int("concurrency", 100);
        var capacity = arguments.Int("capacity", 1, min: 0);
        var samplesPath = arguments.Text("samples") ?? throw new UsageException("node needs --samples.");
        arguments.RejectUnread();

        await using var node = Targets.CreateNode(system, connection, schema, concurrency);

        await node.WarmUpAsync();
        LoadRecorder.Prepare(capacity);
        ProcessMemory.ResetPeak();
        Console.WriteLine("ready");
        await ExpectAsync("go");

        var allocatedBefore = GC.GetTotalAllocatedBytes();
        await node.StartAsync();
        using var stop = new CancellationTokenSource();
        var reporting = ReportAsync(stop.Token);
        await ExpectAsync("stop");
        await stop.CancelAsync();
        await reporting;
        await node.StopAsync();
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;

        await using (var file = File.Create(samplesPath))
        {
            var samples = LoadRecorder.Samples;
            await file.WriteAsync(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples).ToArray());
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done started={LoadRecorder.Started} rss_mb={ProcessMemory.PeakMegabytes():F0} allocated={allocated}"));
        return 0;
    }

    private static async Task ReportAsync(CancellationToken stopToken)
    {
        var reported = -1L;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(stopToken))
            {
                var started = LoadRecorder.Started;
                if (started != reported)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"started {started}"));
                    reported = started;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"started {LoadRecorder.Started}"));
    }

    private static async Task ExpectAsync(string line)
    {
        var read = await Console.In.ReadLineAsync();
        if (read != line)
        {
            throw new InvalidOperationException($"The coordinator sent '{read}' where '{line}' was expected.");
        }
    }
}
