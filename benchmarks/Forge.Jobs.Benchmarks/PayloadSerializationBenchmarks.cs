using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Benchmarks;

/// <summary>A <see cref="SendEmail"/> payload to its stored JSON and back, through the library's own paths: the
/// client's <see cref="NewJobs.Create"/> (serializes and resolves the job's options) and the node's
/// <see cref="JobInvoker.InvokeAsync"/> (deserializes, opens the attempt's DI scope, calls an empty handler). The
/// bare serializer calls, with the options and type info the library uses, show how much of each is JSON.</summary>
[MemoryDiagnoser]
public class PayloadSerializationBenchmarks
{
    private readonly SendEmail _job = SendEmail.Sample(42);
    private ServiceProvider? _services;
    private JobTypeRegistry? _registry;
    private JsonTypeInfo<SendEmail>? _typeInfo;
    private JobInvoker? _invoker;
    private string _payload = "";

    [GlobalSetup]
    public void Setup()
    {
        _services = SendEmailServices.Build();
        _registry = _services.GetRequiredService<JobTypeRegistry>();
        _typeInfo = (JsonTypeInfo<SendEmail>)_registry.Serializer.GetTypeInfo(typeof(SendEmail));
        _invoker = _registry.Find("send_email") ?? throw new InvalidOperationException("send_email is not registered.");
        _payload = JsonSerializer.Serialize(_job, _typeInfo);
    }

    [Benchmark]
    public string SerializePayload() => JsonSerializer.Serialize(_job, _typeInfo!);

    [Benchmark]
    public object ClientNewJob() => NewJobs.Create(_job, options: null, _registry!);

    [Benchmark]
    public SendEmail? DeserializePayload() => JsonSerializer.Deserialize(_payload, _typeInfo!);

    // The empty handler never reads its context.
    [Benchmark]
    public Task<string?> InvokerDeserializeAndRun() => _invoker!.InvokeAsync(_services!, _payload, context: null!, CancellationToken.None);

    [GlobalCleanup]
    public void Cleanup() => _services!.Dispose();
}
