using Forge.Jobs.Client;
using Forge.Jobs.Processing;
using Forge.Jobs.Retry;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Forge.Jobs;

/// <summary>Adds Forge.Jobs to a host.</summary>
public static class ForgeJobsServiceCollectionExtensions
{
    /// <summary>Adds the job client (<see cref="IJobClient"/>) and this process's node (<see cref="IJobNode"/>),
    /// which starts and stops with the host. Call once, configuring everything in <paramref name="configure"/>.</summary>
    /// <exception cref="InvalidOperationException">Called a second time on the same services.</exception>
    public static IServiceCollection AddForgeJobs(this IServiceCollection services, Action<ForgeJobsBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(JobProcessor)))
        {
            throw new InvalidOperationException("AddForgeJobs was called twice. Call it once and configure every queue and handler inside it.");
        }

        services.AddOptions<ForgeJobsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ForgeJobsOptions>, ForgeJobsOptionsValidator>());
        configure(new ForgeJobsBuilder(services));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IJobStore>(static sp => new InMemoryJobStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<JobTypeRegistry>();
        services.TryAddSingleton<RetryPolicy>();
        services.TryAddSingleton<QueueControl>();
        services.TryAddSingleton<Scheduling.CronContext>();
        services.TryAddSingleton(static sp => new Diagnostics.ForgeJobsMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IJobClient, JobClient>();
        services.AddSingleton<JobProcessor>();
        services.AddSingleton<IJobNode>(static sp => sp.GetRequiredService<JobProcessor>());
        services.AddHostedService(static sp => sp.GetRequiredService<JobProcessor>());
        return services;
    }
}
