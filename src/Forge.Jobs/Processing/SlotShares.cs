namespace Forge.Jobs.Processing;

/// <summary>Shares whole slots among queues by weight.</summary>
internal static class SlotShares
{
    /// <summary>Splits <paramref name="total"/> slots in proportion to <paramref name="weights"/>, never giving a queue
    /// more than its cap. A queue whose proportional share reaches its cap gets the cap, and the rest is split among
    /// the others; what is left after whole shares goes one slot each to the largest remainders (then the heavier
    /// queue, then the first). Fewer than <paramref name="total"/> are given out only when every cap is reached.</summary>
    public static int[] Apportion(int total, IReadOnlyList<int> weights, IReadOnlyList<int> caps)
    {
        var shares = new int[weights.Count];
        var open = Enumerable.Range(0, weights.Count).Where(i => caps[i] > 0).ToList();
        while (total > 0 && open.Count > 0)
        {
            long weight = open.Sum(i => (long)weights[i]);
            var capped = open.Where(i => (long)total * weights[i] >= (long)(caps[i] - shares[i]) * weight).ToList();
            if (capped.Count > 0)
            {
                foreach (var i in capped)
                {
                    total -= caps[i] - shares[i];
                    shares[i] = caps[i];
                    open.Remove(i);
                }

                continue;
            }

            var left = total;
            foreach (var i in open)
            {
                var share = (int)((long)total * weights[i] / weight);
                shares[i] += share;
                left -= share;
            }

            foreach (var i in open
                .OrderByDescending(i => (long)total * weights[i] % weight)
                .ThenByDescending(i => weights[i])
                .ThenBy(i => i)
                .Take(left))
            {
                shares[i]++;
            }

            total = 0;
        }

        return shares;
    }
}
