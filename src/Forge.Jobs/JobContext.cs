using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs;

/// <summary>What a handler knows about the attempt it runs, and what it can do about it.</summary>
public sealed class JobContext
{
    private readonly ClaimedJob _job;
    private readonly LeaseKeeper _leases;

    internal JobContext(ClaimedJob job, ILogger logger, LeaseKeeper leases)
    {
        _job = job;
        _leases = leases;
        Logger = logger;
    }

    /// <summary>The job's id.</summary>
    public JobId JobId => _job.Id;

    /// <summary>The job's stable type name.</summary>
    public string JobType => _job.Type;

    /// <summary>The queue the job was claimed from.</summary>
    public string Queue => _job.Queue;

    /// <summary>This attempt's number, from 1.</summary>
    public int Attempt => _job.Attempt;

    /// <summary>How many retries the job has in all; the job is dead when attempt <c>MaxRetries + 1</c> fails.</summary>
    public int MaxRetries => _job.MaxRetries;

    /// <summary>Whether a failure of this attempt makes the job dead instead of retrying it.</summary>
    public bool IsLastAttempt => _job.Attempt > _job.MaxRetries;

    /// <summary>A logger whose scope carries the job id, type, queue and attempt.</summary>
    public ILogger Logger { get; }

    /// <summary>Extends this attempt's lease now, for a handler about to do a long step. Leases are also
    /// extended in the background while the handler runs, so most handlers never call this.</summary>
    /// <returns><see langword="false"/> when the lease was lost (the job was rescued and may run elsewhere):
    /// the handler should stop, as its outcome will not be stored.</returns>
    public Task<bool> ExtendLeaseAsync(CancellationToken cancellationToken = default) =>
        _leases.ExtendOneAsync(_job, cancellationToken);
}
