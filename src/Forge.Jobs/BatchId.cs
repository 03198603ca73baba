using System.Text.Json.Serialization;

namespace Forge.Jobs;

/// <summary>The identity of a batch enqueued with <see cref="IJobClient.EnqueueBatchAsync(JobBatch, CancellationToken)"/>.</summary>
/// <param name="Value">A version 7 UUID, made by the client that enqueued the batch.</param>
[JsonConverter(typeof(BatchIdJsonConverter))]
public readonly record struct BatchId(Guid Value)
{
    /// <summary>The id in its canonical UUID form, the form used in logs, URLs and JSON.</summary>
    public override string ToString() => Value.ToString("D");

    /// <summary>Parses the form produced by <see cref="ToString"/>.</summary>
    /// <exception cref="FormatException"><paramref name="s"/> is not a UUID.</exception>
    public static BatchId Parse(string s) =>
        Guid.TryParse(s, out var value) ? new BatchId(value) : throw new FormatException($"'{s}' is not a batch id: expected a UUID such as 0193a5e4-7c1f-7b7e-9f2a-3c4d5e6f7a8b.");
}

internal sealed class BatchIdJsonConverter : JsonConverter<BatchId>
{
    public override BatchId Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        BatchId.Parse(reader.GetString()!);

    public override void Write(System.Text.Json.Utf8JsonWriter writer, BatchId value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}
