namespace Forge.Jobs;

/// <summary>Gives a job payload type its stable name, the one stored with each job. Without it the name is
/// the class name in snake_case (<c>SendEmail</c> becomes <c>send_email</c>), which changes if the class is renamed.</summary>
/// <param name="name">Letters, digits, <c>_</c>, <c>-</c>, <c>.</c> and <c>:</c>; at most 128 characters.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class JobTypeAttribute(string name) : Attribute
{
    /// <summary>The stored name of the job type.</summary>
    public string Name { get; } = name;
}
