using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;

namespace Forge.Jobs.Tests.Storage;

public sealed class InMemoryJobStoreTests : JobStoreConformanceTests
{
    private protected override Task<IJobStore> CreateStoreAsync() => Task.FromResult<IJobStore>(new InMemoryJobStore(TimeProvider.System));
}
