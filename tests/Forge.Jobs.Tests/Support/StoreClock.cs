using System.Reflection;
using System.Runtime.ExceptionServices;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Tests.Support;

/// <summary>A store whose clock, as <see cref="IJobStore.GetTimeAsync"/> reports it, is a test's clock; every other call
/// goes to the real store. Lets a test move what nodes read from a PostgreSQL store's clock (cron occurrences are due by
/// it) together with the nodes' own clock; the database's now() in the store's statements is untouched.</summary>
internal static class StoreClock
{
    public static IJobStore Wrap(IJobStore inner, TimeProvider clock)
    {
        var store = DispatchProxy.Create<IJobStore, Proxy>();
        ((Proxy)(object)store).Init(inner, clock);
        return store;
    }

#pragma warning disable CA1852 // DispatchProxy needs an unsealed type.
    internal class Proxy : DispatchProxy
#pragma warning restore CA1852
    {
        private IJobStore? _inner;
        private TimeProvider? _clock;

        public void Init(IJobStore inner, TimeProvider clock) => (_inner, _clock) = (inner, clock);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IJobStore.GetTimeAsync))
            {
                return Task.FromResult(_clock!.GetUtcNow());
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException exception) when (exception.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(exception.InnerException).Throw();
                throw;
            }
        }
    }
}
