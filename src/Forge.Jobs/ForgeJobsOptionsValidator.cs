using System.Globalization;
using Forge.Jobs.Serialization;
using Microsoft.Extensions.Options;

namespace Forge.Jobs;

/// <summary>Checks the whole configuration at start-up and reports every problem at once, each with the option,
/// its value and what to change.</summary>
internal sealed class ForgeJobsOptionsValidator : IValidateOptions<ForgeJobsOptions>
{
    public const int MaxConcurrency = 10_000;
    public const int MaxNodeConcurrency = 100_000;
    private static readonly TimeSpan MaxRetention = TimeSpan.FromDays(3650);
    private static readonly TimeSpan MinMisfireThreshold = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxMisfireThreshold = TimeSpan.FromDays(366);

    public ValidateOptionsResult Validate(string? name, ForgeJobsOptions options)
    {
        var errors = new List<string>();
        if (!NodeIds.IsValid(options.NodeId))
        {
            errors.Add($"ForgeJobsOptions.NodeId: {NodeIds.Describe(options.NodeId)} Or leave it unset for a unique default.");
        }

        Interval(errors, nameof(options.LeaseDuration), options.LeaseDuration);
        Interval(errors, nameof(options.LeaseRenewInterval), options.LeaseRenewInterval);
        Interval(errors, nameof(options.PollInterval), options.PollInterval);
        Interval(errors, nameof(options.RescueInterval), options.RescueInterval);
        Interval(errors, nameof(options.ClusterMetricsInterval), options.ClusterMetricsInterval);
        if (options.LeaseRenewInterval >= options.LeaseDuration)
        {
            errors.Add($"ForgeJobsOptions.LeaseRenewInterval ({options.LeaseRenewInterval}) must be shorter than LeaseDuration ({options.LeaseDuration}), or leases lapse between renewals; a third of LeaseDuration is a good value.");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero || options.ShutdownTimeout > JobDefaults.MaxInterval)
        {
            errors.Add($"ForgeJobsOptions.ShutdownTimeout is {options.ShutdownTimeout}; use zero (cancel running jobs at once) up to {JobDefaults.MaxInterval}.");
        }

        if (options.MaxConcurrency is < 1 or > MaxNodeConcurrency)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"ForgeJobsOptions.MaxConcurrency is {options.MaxConcurrency}; use 1 to {MaxNodeConcurrency} jobs at once, or leave it unset for no node-wide cap."));
        }

        if (options.MisfireThreshold < MinMisfireThreshold || options.MisfireThreshold > MaxMisfireThreshold)
        {
            errors.Add($"ForgeJobsOptions.MisfireThreshold is {options.MisfireThreshold}; use {MinMisfireThreshold} up to {MaxMisfireThreshold.TotalDays:0} days. Occurrences handled later than this are missed; keep it above LeaseDuration + LeaseRenewInterval ({options.LeaseDuration + options.LeaseRenewInterval}).");
        }

        if (options.MaxPayloadBytes is < JobDefaults.MinBytesLimit or > JobDefaults.MaxPayloadBytesLimit)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"ForgeJobsOptions.MaxPayloadBytes is {options.MaxPayloadBytes:N0}; use {JobDefaults.MinBytesLimit:N0} (1 KiB) to {JobDefaults.MaxPayloadBytesLimit:N0} (256 MiB) bytes, or leave it unset for 1 MiB. Keep large data out of payloads and pass a reference to it."));
        }

        if (options.MaxClaimBytes is < JobDefaults.MinBytesLimit or > JobDefaults.MaxClaimBytesLimit)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"ForgeJobsOptions.MaxClaimBytes is {options.MaxClaimBytes:N0}; use {JobDefaults.MinBytesLimit:N0} (1 KiB) to {JobDefaults.MaxClaimBytesLimit:N0} (1 GiB) bytes, or leave it unset for 16 MiB."));
        }
        else if (options.MaxClaimBytes < options.MaxPayloadBytes)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"ForgeJobsOptions.MaxClaimBytes ({options.MaxClaimBytes:N0}) is below MaxPayloadBytes ({options.MaxPayloadBytes:N0}), so one claim could not hold one job of the largest size; raise MaxClaimBytes to at least MaxPayloadBytes (16 times it is a good value) or lower MaxPayloadBytes."));
        }

        Retention(errors, nameof(options.SucceededRetention), options.SucceededRetention);
        Retention(errors, nameof(options.FailedRetention), options.FailedRetention);
        Add(errors, options.Backoff?.Validate("ForgeJobsOptions.Backoff") ?? (options.Backoff is null ? "ForgeJobsOptions.Backoff is null; leave it unset for RetryBackoff.Default." : null));
        if (options.JsonSerializerOptions is null)
        {
            errors.Add("ForgeJobsOptions.JsonSerializerOptions is null; leave it unset for the web defaults.");
        }

        foreach (var queue in options.Queues.Values)
        {
            if (!QueueNames.IsValid(queue.Name))
            {
                errors.Add($"AddQueue: {QueueNames.Describe(queue.Name)}");
            }

            if (queue.Concurrency is < 1 or > MaxConcurrency)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Queue '{StoredText.Show(queue.Name)}': Concurrency is {queue.Concurrency}; use 1 to {MaxConcurrency} jobs at once."));
            }

            if (queue.Weight is < 1 or > QueueOptions.MaxWeight)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Queue '{StoredText.Show(queue.Name)}': Weight is {queue.Weight}; use 1 to {QueueOptions.MaxWeight} (its share of the node when ForgeJobsOptions.MaxConcurrency is reached)."));
            }

            if (queue.MaxLength is < 1)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Queue '{StoredText.Show(queue.Name)}': MaxLength is {queue.MaxLength}; use at least 1, or leave it unset for an unbounded queue."));
            }

            Add(errors, queue.Backoff?.Validate($"Queue '{StoredText.Show(queue.Name)}': Backoff"));
        }

        ValidateHandlers(errors, options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateHandlers(List<string> errors, ForgeJobsOptions options)
    {
        foreach (var handler in options.Handlers)
        {
            var owner = $"AddHandler<{handler.HandlerType.Name}, {handler.JobType.Name}>";
            if (!JobTypeNames.IsValid(handler.TypeName))
            {
                errors.Add($"{owner}: {JobTypeNames.Describe(handler.TypeName)}");
            }

            if (!QueueNames.IsValid(handler.Options.Queue))
            {
                errors.Add($"{owner}: JobTypeOptions.Queue: {QueueNames.Describe(handler.Options.Queue)}");
            }
            else if (!options.Queues.ContainsKey(handler.Options.Queue))
            {
                errors.Add($"{owner}: queue '{handler.Options.Queue}' is not declared on this node. Declare it with AddQueue(\"{handler.Options.Queue}\") or register the handler for a declared queue ({string.Join(", ", options.Queues.Keys)}).");
            }

            if (handler.Options.MaxRetries < 0)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{owner}: MaxRetries is {handler.Options.MaxRetries}; use 0 (no retries) or more."));
            }

            if (handler.Options.Timeout <= TimeSpan.Zero || handler.Options.Timeout > JobDefaults.MaxTimeout)
            {
                errors.Add($"{owner}: Timeout is {handler.Options.Timeout}; use a positive time up to {JobDefaults.MaxTimeout}.");
            }

            Add(errors, handler.Options.Backoff?.Validate($"{owner}: Backoff"));
        }

        foreach (var clash in options.Handlers.GroupBy(h => h.TypeName, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"Job type name '{clash.Key}' has {clash.Count()} handlers ({string.Join(", ", clash.Select(h => $"{h.HandlerType.Name} for {h.JobType.FullName}"))}). A type name has one handler: remove the extra AddHandler call, or give one payload type its own name with [JobType(\"...\")].");
        }
    }

    private static void Interval(List<string> errors, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > JobDefaults.MaxInterval)
        {
            errors.Add($"ForgeJobsOptions.{option} is {value}; use a positive time up to {JobDefaults.MaxInterval}.");
        }
    }

    private static void Retention(List<string> errors, string option, TimeSpan value)
    {
        if (value < TimeSpan.Zero || value > MaxRetention)
        {
            errors.Add($"ForgeJobsOptions.{option} is {value}; use zero (delete at the next pruning) up to {MaxRetention.TotalDays:0} days.");
        }
    }

    private static void Add(List<string> errors, string? error)
    {
        if (error is not null)
        {
            errors.Add(error);
        }
    }
}
