using LeakAssert.Measurement;

namespace LeakAssert.Tests;

public sealed class GrowthFitTests
{
    private static List<Checkpoint> Points(Func<int, long> retained) =>
        Enumerable.Range(0, 9).Select(k => new Checkpoint(k * 250, retained(k * 250))).ToList();

    [Fact]
    public void Steady_growth_is_rising_with_its_slope()
    {
        var fit = GrowthFit.Of(Points(i => 1_000_000 + 100L * i));

        fit.Trend.Should().Be(GrowthTrend.Rising);
        fit.SlopeBytesPerIteration.Should().BeApproximately(100, 1e-9);
        fit.TailSlopeBytesPerIteration.Should().BeApproximately(100, 1e-9);
        fit.RSquared.Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Growth_that_stops_in_the_second_half_is_a_plateau()
    {
        var fit = GrowthFit.Of(Points(i => 1_000_000 + 400L * Math.Min(i, 800)));

        fit.SlopeBytesPerIteration.Should().BePositive();
        fit.Trend.Should().Be(GrowthTrend.Plateau);
    }

    [Fact]
    public void Movement_within_a_few_kilobytes_is_flat()
    {
        var noise = new long[] { 0, 4_000, -3_000, 8_000, 1_000, -6_000, 2_000, 5_000, -1_000 };
        var fit = GrowthFit.Of(Points(i => 1_000_000 + noise[i / 250]));

        fit.Trend.Should().Be(GrowthTrend.Flat);
    }

    [Fact]
    public void A_single_point_is_flat() => GrowthFit.Of([new Checkpoint(0, 5)]).Trend.Should().Be(GrowthTrend.Flat);
}
