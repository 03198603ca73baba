using System.Text.Json;

namespace Forge.Jobs.Tests.Configuration;

public sealed class JobIdTests
{
    [Fact]
    public void ToStringAndParse_RoundTrip()
    {
        Assert.Equal(new JobId(42), JobId.Parse(new JobId(42).ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("12a")]
    public void Parse_NotAPositiveNumber_FailsWithAnExample(string text)
    {
        Assert.False(JobId.TryParse(text, out _));
        Assert.Contains("expected a positive whole number", Assert.Throws<FormatException>(() => JobId.Parse(text)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_IsAPlainNumber()
    {
        Assert.Equal("""{"parent":7}""", JsonSerializer.Serialize(new { parent = new JobId(7) }));
        Assert.Equal(new JobId(7), JsonSerializer.Deserialize<JobId>("7"));
        Assert.Equal(new JobId(7), JsonSerializer.Deserialize<JobId>("\"7\""));
    }

    [Fact]
    public void States_HaveLowerCaseNames()
    {
        Assert.Equal(
            ["scheduled", "available", "running", "retrying", "waiting", "succeeded", "dead", "cancelled"],
            Enum.GetValues<JobState>().Select(s => s.ToName()));
        Assert.Equal("\"retrying\"", JsonSerializer.Serialize(JobState.Retrying));
        Assert.Equal([JobState.Succeeded, JobState.Dead, JobState.Cancelled], Enum.GetValues<JobState>().Where(s => s.IsTerminal()));
    }
}
