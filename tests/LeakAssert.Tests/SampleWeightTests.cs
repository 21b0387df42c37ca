using LeakAssert.Profiles;

namespace LeakAssert.Tests;

/// <summary>The estimator is checked against a simulation of the runtime's sampling, with a fixed seed.</summary>
public sealed class SampleWeightTests
{
    [Fact]
    public void An_object_of_one_sampling_distance_is_sampled_with_probability_one_minus_one_over_e() =>
        SampleWeight.InclusionProbability(102_400).Should().BeApproximately(1 - Math.Exp(-1), 1e-5);

    [Fact]
    public void Large_objects_are_almost_always_sampled_and_small_ones_rarely() =>
        (SampleWeight.InclusionProbability(10 << 20), SampleWeight.InclusionProbability(24))
            .Should().Match<(double Big, double Small)>(p => p.Big > 0.9999 && p.Small < 0.00024);

    [Theory]
    [InlineData(24, 4_000_000)]      // 96 MB of tiny objects
    [InlineData(1_024, 100_000)]     // 100 MB of kilobyte arrays
    [InlineData(85_000, 1_200)]      // 100 MB of large objects
    public void The_weighted_estimate_of_sampled_bytes_is_unbiased_and_its_margin_holds(int size, int count)
    {
        var random = new Random(12345);
        var pi = SampleWeight.InclusionProbability(size);
        double estimate = 0, variance = 0;
        for (var i = 0; i < count; i++)
        {
            if (random.NextDouble() >= pi) continue;
            estimate += size / pi;
            variance += SampleWeight.ByteVariance(size);
        }
        var truth = (double)size * count;
        var margin = 1.96 * Math.Sqrt(variance);
        Math.Abs(estimate - truth).Should().BeLessThan(2 * margin, "a seeded draw should land within about four standard errors");
        (margin / truth).Should().BeLessThan(0.1, "about 1,000 samples put the 95% margin near 6%");
    }
}
