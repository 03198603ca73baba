using System.Globalization;

namespace Forge.Jobs.LoadTest;

/// <summary>Peak resident memory of this process, from Linux's /proc (VmHWM); elsewhere the current working set.</summary>
internal static class ProcessMemory
{
    /// <summary>Starts the peak afresh (Linux: writing 5 to clear_refs resets VmHWM), so a warm-up does not count.</summary>
    public static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }
    }

    public static double PeakMegabytes()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null)
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        catch (IOException)
        {
        }

        return Environment.WorkingSet / (1024.0 * 1024.0);
    }
}
