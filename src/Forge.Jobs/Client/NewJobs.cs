using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Client;

/// <summary>Checks a job's options and resolves them, with its type's defaults, into the row to insert.
/// Every rejection is an <see cref="ArgumentException"/> that names the option and what to change.</summary>
internal static class NewJobs
{
    /// <summary>The most parents one job may name; a fan-in over more jobs is a batch with a callback.</summary>
    public const int MaxParents = 10_000;

    public static NewJob Create<TJob>(TJob job, JobOptions? options, JobTypeRegistry registry, JobGroup group = JobGroup.None)
    {
        ArgumentNullException.ThrowIfNull(job);
        var type = JobTypeNames.For<TJob>();
        if (!JobTypeNames.IsValid(type))
        {
            throw new ArgumentException(JobTypeNames.Describe(type), nameof(job));
        }

        var defaults = registry.OptionsFor(typeof(TJob));
        var payload = JsonSerializer.Serialize(job, (JsonTypeInfo<TJob>)registry.Serializer.GetTypeInfo(typeof(TJob)));

        // Counted, not encoded: the store weighs claims by this size, so it is counted once, here.
        var payloadBytes = Encoding.UTF8.GetByteCount(payload);
        if (payloadBytes > registry.MaxPayloadBytes)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The payload of job type '{type}' is {payloadBytes:N0} bytes, over ForgeJobsOptions.MaxPayloadBytes ({registry.MaxPayloadBytes:N0}). Store large data elsewhere and pass a reference, or raise MaxPayloadBytes."),
                nameof(job));
        }

        if (HasNulCharacter(payload))
        {
            throw new ArgumentException(
                $"The payload of job type '{type}' holds the character U+0000 (NUL), which PostgreSQL cannot store in jsonb. Remove it, or carry binary data encoded, for example as Base64.",
                nameof(job));
        }

        if (options is null)
        {
            return new NewJob(type, defaults.Queue, payload, payloadBytes, JobPriority.Normal, defaults.MaxRetries, defaults.Timeout, null, TimeSpan.Zero, null, [], null, registry.MaxLengthOf(defaults.Queue));
        }

        Validate(options, group);
        var queue = options.Queue ?? defaults.Queue;
        return new NewJob(
            type,
            queue,
            payload,
            payloadBytes,
            options.Priority,
            options.MaxRetries ?? defaults.MaxRetries,
            options.Timeout ?? defaults.Timeout,
            options.RunAt,
            options.Delay ?? TimeSpan.Zero,
            options.IdempotencyKey,
            options.Tags is { Count: > 0 } tags ? [.. tags] : [],
            options.Backoff,
            registry.MaxLengthOf(queue),
            group == JobGroup.WorkflowStep ? [] : ParentsOf(options.DependsOn));
    }

    /// <summary>Dependencies on stored jobs; step names are resolved by the workflow planner instead.</summary>
    private static NewDependency[] ParentsOf(IReadOnlyList<JobDependency>? dependsOn)
    {
        if (dependsOn is not { Count: > 0 })
        {
            return [];
        }

        var parents = new NewDependency[dependsOn.Count];
        for (var i = 0; i < parents.Length; i++)
        {
            var dependency = dependsOn[i];
            parents[i] = new NewDependency(dependency.Job!.Value, Row: null, dependency.RunAnyway);
        }

        return parents;
    }

    internal static void Validate(JobOptions options, JobGroup group = JobGroup.None)
    {
        if (options.IdempotencyKey is not null && group != JobGroup.None)
        {
            throw Invalid($"JobOptions.IdempotencyKey is set on a job of a {(group == JobGroup.WorkflowStep ? "workflow" : "batch")}; jobs enqueued together cannot be deduplicated one by one. Remove the key.");
        }

        if (options.DependsOn is { } dependsOn)
        {
            ValidateDependencies(dependsOn, group);
        }

        if (options.Queue is not null && !QueueNames.IsValid(options.Queue))
        {
            throw Invalid($"JobOptions.Queue: {QueueNames.Describe(options.Queue)}");
        }

        if (options.Priority is < JobPriority.Min or > JobPriority.Critical)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"JobOptions.Priority is {options.Priority}; use 0 (lowest) to 9 (highest), for example JobPriority.High."));
        }

        if (options.Delay is { } delay && (delay < TimeSpan.Zero || delay > JobDefaults.MaxDelay))
        {
            throw Invalid($"JobOptions.Delay is {delay}; use zero up to {JobDefaults.MaxDelay.TotalDays:0} days, or RunAt for a fixed time.");
        }

        if (options.Delay is not null && options.RunAt is not null)
        {
            throw Invalid("JobOptions sets both Delay and RunAt; set one of them.");
        }

        if (options.MaxRetries is < 0)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"JobOptions.MaxRetries is {options.MaxRetries}; use 0 (no retries) or more."));
        }

        if (options.Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > JobDefaults.MaxTimeout))
        {
            throw Invalid($"JobOptions.Timeout is {timeout}; use a positive time up to {JobDefaults.MaxTimeout}.");
        }

        if (options.IdempotencyKey is { } key && !IdempotencyKeys.IsValid(key))
        {
            throw Invalid($"JobOptions.IdempotencyKey: {IdempotencyKeys.Describe(key)}");
        }

        if (options.Tags is { } tags)
        {
            if (tags.Count > JobTags.MaxCount)
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"JobOptions.Tags has {tags.Count} tags; use at most {JobTags.MaxCount}."));
            }

            foreach (var tag in tags)
            {
                if (!JobTags.IsValid(tag))
                {
                    throw Invalid($"JobOptions.Tags: {JobTags.Describe(tag)}");
                }
            }
        }

        if (options.Backoff?.Validate("JobOptions.Backoff") is { } backoffError)
        {
            throw Invalid(backoffError);
        }
    }

    public static void ValidateDependencies(IReadOnlyList<JobDependency> dependsOn, JobGroup group, string parameter = "options")
    {
        if (dependsOn.Count > MaxParents)
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture, $"JobOptions.DependsOn has {dependsOn.Count} parents; use at most {MaxParents}, or make a batch with a callback (IJobClient.EnqueueBatchAsync)."), parameter);
        }

        if (dependsOn.Count != dependsOn.Select(d => (d.Job, d.Step)).Distinct().Count())
        {
            throw Invalid("JobOptions.DependsOn names a parent twice; name each parent once.", parameter);
        }

        foreach (var dependency in dependsOn)
        {
            if (dependency.Job is null && dependency.Step is null)
            {
                throw Invalid("JobOptions.DependsOn contains an empty JobDependency; make each with JobDependency.On or JobDependency.Finished, or give a job id.", parameter);
            }

            if (dependency.Step is { } step && group != JobGroup.WorkflowStep)
            {
                throw Invalid($"JobOptions.DependsOn names the step '{step}', but step names work only inside a Workflow; give the parent's JobId instead.", parameter);
            }

            if (dependency.Job is { Value: <= 0 } job)
            {
                throw Invalid($"JobOptions.DependsOn contains the job id {job}; job ids are positive.", parameter);
            }
        }
    }

    private static ArgumentException Invalid(string message, string parameter = "options") => new(message, parameter);

    // JSON writes NUL as the escape \u0000; an escaped backslash followed by "u0000" is not one.
    private static bool HasNulCharacter(string json)
    {
        for (var at = json.IndexOf("\\u0000", StringComparison.Ordinal); at >= 0; at = json.IndexOf("\\u0000", at + 1, StringComparison.Ordinal))
        {
            var backslashes = 1;
            while (at - backslashes >= 0 && json[at - backslashes] == '\\')
            {
                backslashes++;
            }

            if (backslashes % 2 == 1)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What a job is enqueued as part of; it decides which options the job may use.</summary>
internal enum JobGroup
{
    None,
    WorkflowStep,
    BatchJob,
}
