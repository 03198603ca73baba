namespace Forge.Jobs.Storage.Postgres;

/// <summary>The column arrays of the completion statement, one element per <see cref="Completion"/>: text that
/// PostgreSQL would refuse is made storable here. <see cref="Logs"/> is <see langword="null"/> when no completion has log
/// lines, so a batch whose handlers logged nothing sends one null instead of an array.</summary>
internal readonly record struct CompletionParameters(
    long[] Ids,
    string[] Owners,
    int[] Attempts,
    string[] Outcomes,
    string?[] Results,
    string?[] Errors,
    long[] Delays,
    bool[] Rescues,
    string?[]? Logs)
{
    public static CompletionParameters From(IReadOnlyList<Completion> completions)
    {
        var count = completions.Count;
        var ids = new long[count];
        var owners = new string[count];
        var attempts = new int[count];
        var outcomes = new string[count];
        var results = new string?[count];
        var errors = new string?[count];
        var delays = new long[count];
        var rescues = new bool[count];
        string?[]? logs = null;
        for (var i = 0; i < count; i++)
        {
            var c = completions[i];
            ids[i] = c.Id.Value;
            owners[i] = c.LeaseOwner;
            attempts[i] = c.Attempt;
            outcomes[i] = OutcomeCode(c.Outcome);
            results[i] = c.Result is null ? null : PostgresText.CleanJson(c.Result);
            errors[i] = c.Error is null ? null : PostgresText.Clean(c.Error);
            delays[i] = (long)c.RetryDelay.TotalMilliseconds;
            rescues[i] = c.Rescue;
            if (c.Logs is { Count: > 0 } lines)
            {
                (logs ??= new string?[count])[i] = AttemptLogJson.Write(lines);
            }
        }

        return new CompletionParameters(ids, owners, attempts, outcomes, results, errors, delays, rescues, logs);
    }

    private static string OutcomeCode(CompletionOutcome outcome) => outcome switch
    {
        CompletionOutcome.Succeeded => "s",
        CompletionOutcome.Retry => "r",
        CompletionOutcome.Dead => "d",
        CompletionOutcome.Cancelled => "c",
        CompletionOutcome.Released => "l",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };
}
