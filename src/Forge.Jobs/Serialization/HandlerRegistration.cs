using System.Text.Json;

namespace Forge.Jobs.Serialization;

/// <summary>One <c>AddHandler</c> call, kept until start-up validation turns it into a <see cref="JobInvoker"/>.</summary>
internal sealed record HandlerRegistration(
    Type HandlerType,
    Type JobType,
    string TypeName,
    JobTypeOptions Options,
    Func<HandlerRegistration, JsonSerializerOptions, JobInvoker> CreateInvoker);
