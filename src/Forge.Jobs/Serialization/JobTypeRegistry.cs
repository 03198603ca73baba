using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Serialization;

/// <summary>The node's job types and queues, frozen from validated options at start-up.</summary>
internal sealed class JobTypeRegistry
{
    private static readonly JobTypeOptions Unregistered = new();

    private readonly FrozenDictionary<string, JobInvoker> _byName;
    private readonly FrozenDictionary<Type, JobTypeOptions> _byJobType;
    private readonly ForgeJobsOptions _options;

    public JobTypeRegistry(IOptions<ForgeJobsOptions> options)
    {
        _options = options.Value;
        Serializer = _options.JsonSerializerOptions;
        Serializer.MakeReadOnly(populateMissingResolver: true);
        _byName = _options.Handlers.ToFrozenDictionary(h => h.TypeName, h => h.CreateInvoker(h, Serializer), StringComparer.Ordinal);
        _byJobType = _options.Handlers.ToFrozenDictionary(h => h.JobType, h => h.Options);
    }

    public JsonSerializerOptions Serializer { get; }

    public IEnumerable<QueueOptions> Queues => _options.Queues.Values;

    public JobInvoker? Find(string typeName) => _byName.GetValueOrDefault(typeName);

    /// <summary>The largest payload, in UTF-8 bytes, that an enqueue accepts.</summary>
    public int MaxPayloadBytes => _options.MaxPayloadBytes;

    public int? MaxLengthOf(string queue) => _options.Queues.GetValueOrDefault(queue)?.MaxLength;

    public JobTypeOptions OptionsFor(Type jobType) => _byJobType.GetValueOrDefault(jobType) ?? Unregistered;

    /// <summary>The backoff of a job: its own, else its type's, else its queue's, else the node's.</summary>
    public RetryBackoff BackoffFor(RetryBackoff? own, string typeName, string queue) =>
        own
        ?? Find(typeName)?.Options.Backoff
        ?? _options.Queues.GetValueOrDefault(queue)?.Backoff
        ?? _options.Backoff;
}
