using Forge.Jobs.Serialization;

namespace Forge.Jobs.Tests.Configuration;

public sealed class JobTypeNamesTests
{
    [Theory]
    [InlineData("SendEmail", "send_email")]
    [InlineData("Ping", "ping")]
    [InlineData("HTMLReport", "html_report")]
    [InlineData("ResizeImageV2", "resize_image_v2")]
    [InlineData("Envelope`1", "envelope")]
    public void Default_IsTheClassNameInSnakeCase(string className, string expected)
    {
        Assert.Equal(expected, JobTypeNames.ToSnakeCase(className));
    }

    [Fact]
    public void Attribute_WinsOverTheClassName()
    {
        Assert.Equal("always_fails", JobTypeNames.For<Support.AlwaysFails>());
        Assert.Equal("billing.invoice:v2", JobTypeNames.For<RenamedInvoice>());
    }

    [Theory]
    [InlineData("send_email", true)]
    [InlineData("billing.invoice:v2", true)]
    [InlineData("has space", false)]
    [InlineData("", false)]
    public void IsValid_AcceptsOnlyTheDocumentedCharacters(string name, bool valid)
    {
        Assert.Equal(valid, JobTypeNames.IsValid(name));
    }

    [JobType("billing.invoice:v2")]
    private sealed record RenamedInvoice;
}
