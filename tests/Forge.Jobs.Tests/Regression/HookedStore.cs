using System.Reflection;
using System.Runtime.ExceptionServices;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Tests.Regression;

/// <summary>A store (<see cref="Store"/>) that passes every call on to a real one, with hooks a review test can use
/// to pause or break single calls. Built on <see cref="DispatchProxy"/> so that it keeps compiling as
/// <see cref="IJobStore"/> grows.</summary>
internal sealed class HookedStore
{
    private int _renewals;

    public HookedStore(IJobStore inner)
    {
        Inner = inner;
        Store = ForwardingProxy.Create(inner, this);
    }

    /// <summary>The real store, for reads that must not go through the hooks.</summary>
    public IJobStore Inner { get; }

    /// <summary>The store to give the node.</summary>
    public IJobStore Store { get; }

    public int Renewals => Volatile.Read(ref _renewals);

    /// <summary>Runs before each claim is passed on; may wait or throw.</summary>
    public Func<ClaimRequest, CancellationToken, Task>? BeforeClaim { get; set; }

    /// <summary>Runs after each claim has been stored, before its answer is returned; may throw, as a connection lost
    /// after the commit would.</summary>
    public Func<ClaimResult, Task>? AfterClaim { get; set; }

    /// <summary>Runs before each batch of completions is passed on; may wait.</summary>
    public Func<IReadOnlyList<Completion>, Task>? BeforeComplete { get; set; }

    /// <summary>Runs before each lease renewal is passed on; may wait.</summary>
    public Func<IReadOnlyList<LeaseRef>, Task>? BeforeRenew { get; set; }

    private async Task<ClaimResult> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        if (BeforeClaim is { } hook)
        {
            await hook(request, cancellationToken);
        }

        var result = await Inner.ClaimAsync(request, cancellationToken);
        if (AfterClaim is { } after)
        {
            await after(result);
        }

        return result;
    }

    private async Task<IReadOnlyList<Completion>> CompleteManyAsync(IReadOnlyList<Completion> completions, CancellationToken cancellationToken)
    {
        if (BeforeComplete is { } hook)
        {
            await hook(completions);
        }

        return await Inner.CompleteManyAsync(completions, cancellationToken);
    }

    private async Task<LeaseRenewal> ExtendLeasesAsync(string leaseOwner, IReadOnlyList<LeaseRef> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        if (BeforeRenew is { } hook)
        {
            await hook(leases);
        }

        Interlocked.Increment(ref _renewals);
        return await Inner.ExtendLeasesAsync(leaseOwner, leases, leaseDuration, cancellationToken);
    }

#pragma warning disable CA1852 // DispatchProxy needs an unsealed type.
    internal class ForwardingProxy : DispatchProxy
#pragma warning restore CA1852
    {
        private IJobStore? _inner;
        private HookedStore? _hooks;

        public static IJobStore Create(IJobStore inner, HookedStore hooks)
        {
            var store = DispatchProxy.Create<IJobStore, ForwardingProxy>();
            var proxy = (ForwardingProxy)(object)store;
            proxy._inner = inner;
            proxy._hooks = hooks;
            return store;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            switch (targetMethod.Name)
            {
                case nameof(IJobStore.ClaimAsync):
                    return _hooks!.ClaimAsync((ClaimRequest)args![0]!, (CancellationToken)args[1]!);
                case nameof(IJobStore.CompleteManyAsync):
                    return _hooks!.CompleteManyAsync((IReadOnlyList<Completion>)args![0]!, (CancellationToken)args[1]!);
                case nameof(IJobStore.ExtendLeasesAsync):
                    return _hooks!.ExtendLeasesAsync((string)args![0]!, (IReadOnlyList<LeaseRef>)args[1]!, (TimeSpan)args[2]!, (CancellationToken)args[3]!);
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
