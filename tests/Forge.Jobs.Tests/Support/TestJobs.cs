using Forge.Jobs.Storage;

namespace Forge.Jobs.Tests.Support;

internal static class TestJobs
{
    public static NewJob New(
        string queue = "default",
        int priority = JobPriority.Normal,
        int maxRetries = 3,
        DateTimeOffset? runAt = null,
        TimeSpan delay = default,
        string? idempotencyKey = null,
        string type = "test_job",
        string payload = "{}",
        IReadOnlyList<string>? tags = null,
        int? maxLength = null) =>
        new(type, queue, payload, System.Text.Encoding.UTF8.GetByteCount(payload), priority, maxRetries, TimeSpan.FromMinutes(5), runAt, delay, idempotencyKey, tags ?? [], null, maxLength);
}
