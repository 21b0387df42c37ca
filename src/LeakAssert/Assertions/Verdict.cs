using System.Globalization;
using LeakAssert.Measurement;

namespace LeakAssert.Assertions;

/// <summary>
/// A decision on the exact figures only, never on sampled ones. A total bound compares the growth from the baseline
/// to the last measured checkpoint. A per-iteration bound fails only when growth is still rising: the fitted slope
/// over the whole run and over its second half both exceed the bound, so a cache that fills and stops passes.
/// </summary>
internal sealed record Verdict(bool Passed, string Bound, string Finding)
{
    public static Verdict Total(LeakProfile p, ByteSize bound)
    {
        var passed = p.RetainedGrowth <= bound;
        return new Verdict(passed, $"at most {bound} retained over {Count(p.Iterations)} iterations",
            passed ? $"retained {p.RetainedGrowth}, within the bound" : $"retained {p.RetainedGrowth}, more than the bound");
    }

    public static Verdict PerIteration(LeakProfile p, PerIterationBound bound)
    {
        var limit = bound.Size.Bytes;
        var g = p.Growth;
        var rising = g.Trend == GrowthTrend.Rising && g.SlopeBytesPerIteration > limit && g.TailSlopeBytesPerIteration > limit;
        var finding = rising
            ? $"retained {ByteSize.Format(g.SlopeBytesPerIteration)} per iteration and still rising at the end"
            : g.Trend switch
            {
                GrowthTrend.Plateau => $"growth levelled off ({ByteSize.Format(g.TailSlopeBytesPerIteration)} per iteration in the second half)",
                GrowthTrend.Flat => "no growth beyond measurement noise",
                _ => $"retained {ByteSize.Format(g.SlopeBytesPerIteration)} per iteration, within the bound",
            };
        return new Verdict(!rising, $"at most {bound.Size} retained per iteration", finding);
    }

    internal static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
