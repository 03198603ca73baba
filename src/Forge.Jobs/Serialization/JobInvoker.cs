using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Serialization;

/// <summary>Runs one job type's handler: deserializes the payload, resolves the handler from the attempt's
/// scope, calls it and serializes its result. Built once per type at start-up, so the hot path does no reflection.</summary>
internal abstract class JobInvoker(HandlerRegistration registration)
{
    public string TypeName => registration.TypeName;

    public JobTypeOptions Options => registration.Options;

    /// <summary>Runs one attempt in a DI scope of its own, disposed when the handler returns (even if the
    /// engine stopped waiting for it).</summary>
    /// <returns>The result as JSON, or <see langword="null"/> for a handler without a result.</returns>
    public abstract Task<string?> InvokeAsync(IServiceProvider services, string payload, JobContext context, CancellationToken cancellationToken);

    protected static TJob Deserialize<TJob>(string payload, JsonTypeInfo<TJob> typeInfo, string typeName)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, typeInfo)
                ?? throw new JobPayloadException($"The payload of job type '{typeName}' is JSON null; expected a {typeof(TJob).Name}.");
        }
        catch (JsonException exception)
        {
            throw new JobPayloadException($"The payload of job type '{typeName}' does not deserialize to {typeof(TJob).FullName}: {exception.Message}", exception);
        }
    }

    protected static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
}

internal sealed class JobInvoker<THandler, TJob>(HandlerRegistration registration, JsonSerializerOptions options)
    : JobInvoker(registration)
    where THandler : class, IJobHandler<TJob>
{
    private readonly JsonTypeInfo<TJob> _job = TypeInfo<TJob>(options);

    public override async Task<string?> InvokeAsync(IServiceProvider services, string payload, JobContext context, CancellationToken cancellationToken)
    {
        var job = Deserialize(payload, _job, TypeName);
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(job, context, cancellationToken).ConfigureAwait(false);
            return null;
        }
    }
}

internal sealed class JobInvoker<THandler, TJob, TResult>(HandlerRegistration registration, JsonSerializerOptions options)
    : JobInvoker(registration)
    where THandler : class, IJobHandler<TJob, TResult>
{
    private readonly JsonTypeInfo<TJob> _job = TypeInfo<TJob>(options);
    private readonly JsonTypeInfo<TResult> _result = TypeInfo<TResult>(options);

    public override async Task<string?> InvokeAsync(IServiceProvider services, string payload, JobContext context, CancellationToken cancellationToken)
    {
        var job = Deserialize(payload, _job, TypeName);
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var result = await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(job, context, cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Serialize(result, _result);
        }
    }
}

/// <summary>A payload that cannot be turned into the handler's job type. The attempt fails with this error.</summary>
internal sealed class JobPayloadException : Exception
{
    public JobPayloadException(string message) : base(message) { }

    public JobPayloadException(string message, Exception innerException) : base(message, innerException) { }
}
