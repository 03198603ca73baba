using System.Threading.Channels;

namespace Forge.Jobs.Processing;

/// <summary>An auto-reset signal for a loop that also wakes on a timer: many <see cref="Set"/> calls before a
/// wait collapse into one wake-up.</summary>
internal sealed class WakeSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private Task<bool>? _pending;

    public void Set() => _channel.Writer.TryWrite(true);

    /// <summary>Waits for <see cref="Set"/> or for <paramref name="timeout"/> on <paramref name="time"/>, whichever is first.</summary>
    /// <returns><see langword="true"/> when signalled.</returns>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _))
        {
            return true;
        }

        _pending ??= _channel.Reader.WaitToReadAsync(cancellationToken).AsTask();
        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, time, delayCancellation.Token);
        var first = await Task.WhenAny(_pending, delay).ConfigureAwait(false);
        await delayCancellation.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first != _pending)
        {
            return false;
        }

        _pending = null;
        return _channel.Reader.TryRead(out _);
    }
}
