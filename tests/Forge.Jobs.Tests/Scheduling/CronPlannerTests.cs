using Forge.Jobs.Scheduling;
using static Forge.Jobs.Tests.Scheduling.CronTestSupport;

namespace Forge.Jobs.Tests.Scheduling;

/// <summary>What one fire covers: the misfire policy applied to the occurrences from the cursor up to now.</summary>
public sealed class CronPlannerTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Fact]
    public void Plan_OnTime_CoversEveryOccurrenceUpToNowAndMovesTheCursorPastIt()
    {
        var plan = Plan("* * * * * *", MisfirePolicy.Skip, cursor: "2030-01-01T00:00:10", now: "2030-01-01T00:00:12.500");

        Assert.Equal(["2030-01-01T00:00:10", "2030-01-01T00:00:11", "2030-01-01T00:00:12"], plan.Occurrences.Select(Iso));
        Assert.Null(plan.FirstMissed);
        Assert.Equal(Utc("2030-01-01T00:00:13"), plan.NextRunAt);
    }

    [Fact]
    public void Plan_Skip_DropsOccurrencesMoreThanTheThresholdLate()
    {
        var plan = Plan("*/10 * * * *", MisfirePolicy.Skip, cursor: "2030-01-01T00:10:00", now: "2030-01-01T01:00:30");

        Assert.Equal(["2030-01-01T01:00:00"], plan.Occurrences.Select(Iso));
        Assert.Equal(Utc("2030-01-01T00:10:00"), plan.FirstMissed);
        Assert.Equal(Utc("2030-01-01T01:10:00"), plan.NextRunAt);
    }

    [Fact]
    public void Plan_RunOnce_RunsTheMissedOccurrencesAsOneJobKeyedByTheFirst()
    {
        var plan = Plan("*/10 * * * *", MisfirePolicy.RunOnce, cursor: "2030-01-01T00:10:00", now: "2030-01-01T01:00:30");

        Assert.Equal(["2030-01-01T00:10:00", "2030-01-01T01:00:00"], plan.Occurrences.Select(Iso));
        Assert.Equal(Utc("2030-01-01T00:10:00"), plan.FirstMissed);
    }

    [Fact]
    public void Plan_OnlyMissedOccurrences_MovesTheCursorToTheNextFutureOne()
    {
        var skip = Plan("0 * * * *", MisfirePolicy.Skip, cursor: "2030-01-01T01:00:00", now: "2030-01-01T05:30:00");
        var once = Plan("0 * * * *", MisfirePolicy.RunOnce, cursor: "2030-01-01T01:00:00", now: "2030-01-01T05:30:00");

        Assert.Empty(skip.Occurrences);
        Assert.Equal(["2030-01-01T01:00:00"], once.Occurrences.Select(Iso));
        Assert.All(new[] { skip, once }, plan => Assert.Equal(Utc("2030-01-01T06:00:00"), plan.NextRunAt));
    }

    [Fact]
    public void Plan_ExactlyTheThresholdLate_IsOnTime()
    {
        var plan = Plan("* * * * *", MisfirePolicy.Skip, cursor: "2030-01-01T00:01:00", now: "2030-01-01T00:02:00");

        Assert.Equal(["2030-01-01T00:01:00", "2030-01-01T00:02:00"], plan.Occurrences.Select(Iso));
        Assert.Null(plan.FirstMissed);
    }

    [Fact]
    public void Plan_ManyOccurrences_StopsAtTheLimitAndLeavesTheRestDue()
    {
        var plan = CronPlanner.Plan(
            CronExpressions.Parse("* * * * * *", "expression"), TimeZoneInfo.Utc, MisfirePolicy.Skip,
            Utc("2030-01-01T00:00:00"), Utc("2030-01-01T01:00:00"), TimeSpan.FromHours(2), limit: 1000);

        Assert.Equal(1000, plan.Occurrences.Count);
        Assert.Equal(Utc("2030-01-01T00:16:40"), plan.NextRunAt);
    }

    [Fact]
    public void Plan_CutoffOnAnOccurrenceThatSpringMovedTo0300_KeepsIt()
    {
        // In Berlin on 2030-03-31, 02:30 does not exist and runs at 03:00 CEST (01:00 UTC). With now a minute later,
        // that occurrence is exactly the threshold late: on time. Cronos's inclusive search from 03:00 would miss it.
        var plan = CronPlanner.Plan(
            CronExpressions.Parse("30 2 * * *", "expression"), Berlin, MisfirePolicy.Skip,
            Utc("2030-03-30T01:30:00"), Utc("2030-03-31T01:01:00"), Minute, limit: 1000);

        Assert.Equal(["2030-03-31T01:00:00"], plan.Occurrences.Select(Iso));
        Assert.Equal(Utc("2030-03-30T01:30:00"), plan.FirstMissed);
    }

    [Fact]
    public void NextAtOrAfter_FindsTheOccurrenceThatSpringMovedTo0300()
    {
        var daily = CronExpressions.Parse("30 2 * * *", "expression");
        var jump = new DateTimeOffset(2030, 3, 31, 3, 0, 0, TimeSpan.FromHours(2));

        Assert.Equal(jump, CronExpressions.NextAtOrAfter(daily, jump, Berlin));
        Assert.Equal(jump, CronExpressions.NextAtOrAfter(daily, jump.AddMinutes(-30), Berlin));
        Assert.Equal(new DateTimeOffset(2030, 4, 1, 2, 30, 0, TimeSpan.FromHours(2)), CronExpressions.NextAtOrAfter(daily, jump.AddTicks(1), Berlin));
    }

    private static FirePlan Plan(string expression, MisfirePolicy misfire, string cursor, string now) =>
        CronPlanner.Plan(CronExpressions.Parse(expression, "expression"), TimeZoneInfo.Utc, misfire, Utc(cursor), Utc(now), Minute, limit: 1000);

    private static string Iso(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
}
