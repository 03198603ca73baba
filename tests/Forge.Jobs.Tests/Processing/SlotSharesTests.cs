using Forge.Jobs.Processing;

namespace Forge.Jobs.Tests.Processing;

public sealed class SlotSharesTests
{
    [Fact]
    public void Apportion_SplitsInProportionToWeight()
    {
        Assert.Equal([1, 9], SlotShares.Apportion(10, [1, 9], [10, 10]));
        Assert.Equal([2, 4, 4], SlotShares.Apportion(10, [1, 2, 2], [10, 10, 10]));
    }

    [Fact]
    public void Apportion_WhatIsLeftAfterWholeShares_GoesToTheLargestRemainders()
    {
        // Shares of 7 by 1:1:1 are 2.33 each: the one slot left goes to the first of equals.
        Assert.Equal([3, 2, 2], SlotShares.Apportion(7, [1, 1, 1], [10, 10, 10]));
        // 1 slot by 1:9 goes to the heavier queue (0.1 against 0.9).
        Assert.Equal([0, 1], SlotShares.Apportion(1, [1, 9], [10, 10]));
    }

    [Fact]
    public void Apportion_AQueueAtItsCap_LeavesTheRestToTheOthersByWeight()
    {
        Assert.Equal([7, 3], SlotShares.Apportion(10, [1, 9], [10, 3]));
        Assert.Equal([0, 4, 6], SlotShares.Apportion(10, [5, 2, 3], [0, 10, 10]));
    }

    [Fact]
    public void Apportion_MoreSlotsThanEveryCap_GivesEachItsCap()
    {
        Assert.Equal([2, 3], SlotShares.Apportion(100, [1, 9], [2, 3]));
    }

    [Fact]
    public void Apportion_NothingToShare_GivesNothing()
    {
        Assert.Equal([0, 0], SlotShares.Apportion(0, [1, 9], [5, 5]));
    }
}
