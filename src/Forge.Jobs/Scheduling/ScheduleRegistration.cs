using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Scheduling;

/// <summary>A schedule registered in code with <see cref="ForgeJobsBuilder.AddRecurring{TJob}"/>: checked at once, and
/// resolved into its definition (which needs the serializer) when the node starts and stores it.</summary>
internal sealed record ScheduleRegistration(string Name, string Expression, Func<JobTypeRegistry, ScheduleDefinition> Resolve);
