using Hangfire.Logging;

namespace Forge.Jobs.LoadTest;

/// <summary>Hangfire's warnings and errors, on standard error (a node's standard output carries its protocol).</summary>
internal sealed class HangfireErrorLog : ILogProvider, ILog
{
    public ILog GetLogger(string name) => this;

    public bool Log(LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
    {
        if (logLevel < LogLevel.Warn)
        {
            return false;
        }

        // Hangfire calls without a message to ask whether the level is enabled.
        if (messageFunc is not null)
        {
            Console.Error.WriteLine($"hangfire {logLevel}: {messageFunc()}{(exception is null ? "" : Environment.NewLine + exception)}");
        }

        return true;
    }
}
