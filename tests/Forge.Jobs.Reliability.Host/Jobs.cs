using Forge.Jobs;

namespace Forge.Jobs.Reliability;

/// <summary>Works for <paramref name="Milliseconds"/> (from the second attempt on, for <paramref name="LaterMilliseconds"/>
/// when set), then returns, or throws when <paramref name="Fail"/> is set. <paramref name="Padding"/> makes the payload
/// as large as a scenario needs.</summary>
[JobType("work")]
public sealed record WorkJob(int Milliseconds = 0, bool Fail = false, string? Padding = null, int? LaterMilliseconds = null);

/// <summary>Ends the whole node process with <see cref="Environment.FailFast(string)"/> on every run.</summary>
[JobType("fail_fast")]
public sealed record FailFastJob(int N = 0);

/// <summary>Writes a side effect and completes its job in one transaction of its own.</summary>
[JobType("transactional")]
public sealed record TransactionalJob(int Milliseconds = 0);
