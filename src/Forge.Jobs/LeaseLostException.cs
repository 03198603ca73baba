namespace Forge.Jobs;

/// <summary>Thrown by <see cref="JobContext.CompleteAsync(Npgsql.NpgsqlTransaction, CancellationToken)"/> when the
/// attempt no longer holds its lease (the job was rescued, cancelled or finished elsewhere). Let it propagate so that
/// the handler's transaction rolls back: another attempt owns the job now.</summary>
public sealed class LeaseLostException : Exception
{
    /// <summary>Creates the exception for one attempt of a job.</summary>
    public LeaseLostException(JobId jobId, int attempt)
        : base($"Job {jobId} attempt {attempt} no longer holds its lease; roll back the handler's transaction.")
    {
        JobId = jobId;
        Attempt = attempt;
    }

    /// <summary>The job whose lease was lost.</summary>
    public JobId JobId { get; }

    /// <summary>The attempt that lost it.</summary>
    public int Attempt { get; }
}
