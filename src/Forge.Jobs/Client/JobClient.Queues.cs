using System.Globalization;

namespace Forge.Jobs.Client;

internal sealed partial class JobClient
{
    public const int MaxGlobalLimit = 1_000_000;

    public async Task SetQueueConcurrencyAsync(string queue, int? concurrency, CancellationToken cancellationToken = default)
    {
        ValidQueue(queue);
        if (concurrency is < 1 or > ForgeJobsOptionsValidator.MaxConcurrency)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Concurrency {concurrency} for queue '{queue}' is out of range; use 1 to {ForgeJobsOptionsValidator.MaxConcurrency} jobs at once per node, or null to return every node to its configured QueueOptions.Concurrency."),
                nameof(concurrency));
        }

        await store.SetQueueConcurrencyAsync(queue, concurrency, cancellationToken).ConfigureAwait(false);
        control?.ApplyLocalConcurrency(queue, concurrency);
    }

    public async Task SetQueueGlobalLimitAsync(string queue, int? limit, CancellationToken cancellationToken = default)
    {
        ValidQueue(queue);
        if (limit is < 1 or > MaxGlobalLimit)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Global limit {limit} for queue '{queue}' is out of range; use 1 to {MaxGlobalLimit} running jobs across all nodes, or null for no limit."),
                nameof(limit));
        }

        await store.SetQueueGlobalLimitAsync(queue, limit, cancellationToken).ConfigureAwait(false);
        control?.ApplyLocalGlobalLimit(queue, limit);
    }
}
