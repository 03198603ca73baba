using Forge.Jobs.Scheduling;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Forge.Jobs;

/// <summary>Configures Forge.Jobs inside <c>AddForgeJobs</c>: the store, the queues this node serves, and the
/// handlers it runs. Everything is validated when the host starts.</summary>
public sealed class ForgeJobsBuilder
{
    private readonly HashSet<string> _scheduleNames = new(StringComparer.Ordinal);

    internal ForgeJobsBuilder(IServiceCollection services) => Services = services;

    /// <summary>The host's services, for registering what handlers depend on.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Sets node-wide options such as lease timing, shutdown timeout, backoff and JSON serialization.</summary>
    public ForgeJobsBuilder Configure(Action<ForgeJobsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    /// <summary>Keeps jobs in process memory: for development, samples and tests. Jobs are lost when the process
    /// exits, and processes do not share them. This is the store when none is named.</summary>
    public ForgeJobsBuilder UseInMemory()
    {
        Services.Replace(ServiceDescriptor.Singleton<IJobStore>(static sp => new InMemoryJobStore(sp.GetRequiredService<TimeProvider>())));
        return this;
    }

    /// <summary>Keeps jobs in PostgreSQL: durable, and shared by every node that uses the same database and schema.
    /// The store creates or upgrades its schema at start-up unless <see cref="PostgresStoreOptions.AutoMigrate"/> is off.</summary>
    /// <param name="connectionString">An Npgsql connection string. The store owns the data source it builds from it, which
    /// prepares its statements automatically (<c>Max Auto Prepare</c>, unless the string sets it, or the options say that
    /// connections go through a transaction-mode pooler: <see cref="PostgresStoreOptions.PollOnly"/> or a
    /// <see cref="PostgresStoreOptions.ListenConnectionString"/>) and keeps them prepared across pooled opens
    /// (<c>No Reset On Close</c>).</param>
    /// <param name="configure">Sets the schema, migration, timeouts and notification options.</param>
    /// <exception cref="ArgumentException">The connection string is not one Npgsql can read, or an option breaks its
    /// rule; the message states the rule and never quotes a connection string.</exception>
    public ForgeJobsBuilder UsePostgres(string connectionString, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (PostgresConnections.Check(connectionString, "UsePostgres: the connection string") is { } error)
        {
            throw new ArgumentException(error, nameof(connectionString));
        }

        return UsePostgres(
            (_, options) => NpgsqlDataSource.Create(PostgresConnections.ForStore(connectionString, throughPooler: options.PollOnly || options.ListenConnectionString is not null)),
            ownsDataSource: true,
            configure,
            connectionString);
    }

    /// <summary>Keeps jobs in PostgreSQL through the host's own data source (which the host disposes).</summary>
    /// <inheritdoc cref="UsePostgres(string, Action{PostgresStoreOptions}?)"/>
    public ForgeJobsBuilder UsePostgres(NpgsqlDataSource dataSource, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return UsePostgres((_, _) => dataSource, ownsDataSource: false, configure);
    }

    // listenConnectionString: where the notifier listens when the options name no other place, on a data source of its
    // own, since the store's skips the reset of connections returned to its pool.
    private ForgeJobsBuilder UsePostgres(
        Func<IServiceProvider, PostgresStoreOptions, NpgsqlDataSource> dataSource, bool ownsDataSource, Action<PostgresStoreOptions>? configure, string? listenConnectionString = null)
    {
        var options = new PostgresStoreOptions();
        configure?.Invoke(options);
        if (!PostgresSchema.IsValid(options.Schema))
        {
            throw new ArgumentException(PostgresSchema.Describe(options.Schema), nameof(configure));
        }

        if (options.CommandTimeout <= TimeSpan.Zero || options.CommandTimeout > JobDefaults.MaxInterval)
        {
            throw new ArgumentException($"PostgresStoreOptions.CommandTimeout is {options.CommandTimeout}; use a positive time up to {JobDefaults.MaxInterval}.", nameof(configure));
        }

        if (options.ListenConnectionString is not null
            && PostgresConnections.Check(options.ListenConnectionString, "PostgresStoreOptions.ListenConnectionString") is { } listenError)
        {
            throw new ArgumentException($"{listenError} Or leave it unset to listen through the store's own connections.", nameof(configure));
        }

        Services.Replace(ServiceDescriptor.Singleton<IJobStore>(sp =>
        {
            var source = dataSource(sp, options);
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Forge.Jobs.Postgres");
            var notifier = (options.ListenConnectionString ?? listenConnectionString) is { } listen
                ? new PostgresNotifier(NpgsqlDataSource.Create(listen), ownsDataSource: true, logger)
                : new PostgresNotifier(source, ownsDataSource: false, logger);
            return new PostgresJobStore(source, ownsDataSource, options, notifier);
        }));
        return this;
    }

    /// <summary>Declares a queue that this node serves, or configures it further. The queue <c>"default"</c> is
    /// always declared.</summary>
    /// <param name="name">Lower-case letters and digits, words joined by <c>_</c> or <c>-</c>, at most 64 characters.</param>
    /// <param name="configure">Sets the queue's concurrency and backoff.</param>
    public ForgeJobsBuilder AddQueue(string name, Action<QueueOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        Services.Configure<ForgeJobsOptions>(options =>
        {
            if (!options.Queues.TryGetValue(name, out var queue))
            {
                queue = new QueueOptions(name);
                options.Queues.Add(name, queue);
            }

            configure?.Invoke(queue);
        });
        return this;
    }

    /// <summary>Registers <typeparamref name="THandler"/> (scoped, one instance per attempt) to run jobs of
    /// type <typeparamref name="TJob"/>.</summary>
    /// <param name="configure">Defaults for every job of this type: queue, retries, timeout, backoff.</param>
    public ForgeJobsBuilder AddHandler<THandler, TJob>(Action<JobTypeOptions>? configure = null)
        where THandler : class, IJobHandler<TJob> =>
        AddHandler<THandler, TJob>(configure, static (registration, json) => new JobInvoker<THandler, TJob>(registration, json));

    /// <summary>Registers <typeparamref name="THandler"/> (scoped, one instance per attempt) to run jobs of
    /// type <typeparamref name="TJob"/> and store their <typeparamref name="TResult"/>.</summary>
    /// <param name="configure">Defaults for every job of this type: queue, retries, timeout, backoff.</param>
    public ForgeJobsBuilder AddHandler<THandler, TJob, TResult>(Action<JobTypeOptions>? configure = null)
        where THandler : class, IJobHandler<TJob, TResult> =>
        AddHandler<THandler, TJob>(configure, static (registration, json) => new JobInvoker<THandler, TJob, TResult>(registration, json));

    /// <summary>Registers a cron schedule that enqueues <paramref name="job"/> at each occurrence of
    /// <paramref name="cronExpression"/>. The node stores it when it starts: a new schedule starts from the first
    /// occurrence after that; a stored one gets this definition, keeps a pause made at run time, and keeps its next run
    /// unless the expression or time zone changed. A schedule deleted at run time comes back when a node that registers
    /// it starts again.</summary>
    /// <param name="name">The schedule's unique name: 1 to 128 letters, digits, <c>_</c>, <c>-</c>, <c>.</c> or <c>:</c>.</param>
    /// <param name="cronExpression">Five fields (minute hour day-of-month month day-of-week), six fields with seconds
    /// first, or a macro such as <c>@daily</c>.</param>
    /// <param name="job">The payload of every job the schedule enqueues.</param>
    /// <param name="timeZone">The time zone the expression is read in; defaults to UTC. Sets
    /// <see cref="ScheduleOptions.TimeZone"/> before <paramref name="configure"/> runs.</param>
    /// <param name="configure">Sets the time zone, the misfire policy and the jobs' options.</param>
    /// <exception cref="ArgumentException">The name, the expression or an option is not valid, or the name is already
    /// registered; the message quotes the value.</exception>
    public ForgeJobsBuilder AddRecurring<TJob>(string name, string cronExpression, TJob job, TimeZoneInfo? timeZone = null, Action<ScheduleOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var options = new ScheduleOptions { TimeZone = timeZone ?? TimeZoneInfo.Utc };
        configure?.Invoke(options);
        ScheduleDefinitions.Validate(name, cronExpression, options);
        if (!_scheduleNames.Add(name))
        {
            throw new ArgumentException($"AddRecurring: a schedule named '{name}' is already registered on this node; give each schedule its own name.", nameof(name));
        }

        var registration = new ScheduleRegistration(name, cronExpression, registry => ScheduleDefinitions.Create(name, cronExpression, job, options, registry));
        Services.Configure<ForgeJobsOptions>(o => o.Schedules.Add(registration));
        return this;
    }

    private ForgeJobsBuilder AddHandler<THandler, TJob>(
        Action<JobTypeOptions>? configure,
        Func<HandlerRegistration, System.Text.Json.JsonSerializerOptions, JobInvoker> createInvoker)
        where THandler : class
    {
        var typeOptions = new JobTypeOptions();
        configure?.Invoke(typeOptions);
        var registration = new HandlerRegistration(typeof(THandler), typeof(TJob), JobTypeNames.For<TJob>(), typeOptions, createInvoker);
        Services.TryAddScoped<THandler>();
        Services.Configure<ForgeJobsOptions>(options => options.Handlers.Add(registration));
        return this;
    }
}
