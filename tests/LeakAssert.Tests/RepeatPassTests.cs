using LeakAssert.Measurement;
using LeakAssert.Verdicts;

namespace LeakAssert.Tests;

/// <summary>
/// Rising growth is run again; a leak repeats, a burst from another thread of the process does not. The rule on
/// hand-made checkpoints, and the repeat pass itself on the real heap.
/// </summary>
public sealed class RepeatPassTests
{
    // 2,000 iterations: flat, then 117 kB in the second half, as a test host's background work once did here.
    private static readonly long[] Burst = [949_000, 949_100, 949_100, 949_100, 949_100, 949_100, 949_100, 949_100, 949_100, 949_100, 954_200, 1_009_000, 1_013_700, 1_039_000, 1_058_000, 1_061_000, 1_066_000];

    private static LeakProfile Profile(long[] measured, params (int Iteration, long Retained)[] repeat) =>
        new(new MeasuredRun
        {
            Iterations = 2_000, Warmup = 200, Checkpoints = measured.Select((r, k) => new Checkpoint(k * 125, r)).ToArray(),
            RepeatCheckpoints = repeat.Select(c => new Checkpoint(c.Iteration, c.Retained)).ToArray(), AllocatedBytesPerIteration = 360,
            SamplingProblem = "sampling was turned off (SamplingMode.Off)", Elapsed = TimeSpan.FromSeconds(1), MeasuredTime = TimeSpan.FromSeconds(0.1),
        });

    [Fact]
    public void Growth_that_does_not_repeat_passes_and_says_where_it_came_from()
    {
        var p = Profile(Burst, (2_000, 1_600_000), (12_000, 1_600_100), (22_000, 1_599_900), (32_000, 1_600_000), (40_000, 1_599_700));

        var verdict = Verdict.PerIteration(p, 0.Bytes().PerIteration());

        p.Growth.ExceedsWhileRising(0).Should().BeTrue("the measured checkpoints alone say leak\n{0}", p.Report());
        verdict.Passed.Should().BeTrue("{0}\n{1}", verdict.Finding, p.Report());
        verdict.Finding.Should().Match("grew *B per iteration over the measured iterations, but retained only -300B over 38,000 more, where a leak of that size would have retained at least *: the growth did not repeat (a cache that filled, or something else in the process)", p.Report());
    }

    // 2,000 iterations of the NUnit sample: flat, then a ~100 kB step from the test host between checkpoints 13 and 15
    // (70.8 kB, then 29 kB). Fitted as it is, just rising (99% lower bound 9.1 B per iteration): a false alarm.
    private static readonly long[] Step = [949_000, 949_100, 949_100, 949_200, 949_100, 949_000, 949_100, 949_200, 949_100, 949_100, 949_200, 949_100, 949_100, 949_200, 1_020_000, 1_049_000, 1_049_200];

    [Fact]
    public void A_one_off_step_is_set_aside_by_the_fit_and_passes_even_before_the_repeat_pass()
    {
        // 51,000 iterations in 4 segments, each a few kB above the last (the session and the test host): 19 kB in all.
        var p = Profile(Step, (2_000, 1_600_000), (14_750, 1_605_100), (27_500, 1_609_800), (40_250, 1_614_600), (53_000, 1_619_300));

        var verdict = Verdict.PerIteration(p, 0.Bytes().PerIteration());

        p.Growth.SetAside.Should().Be(new SetAsideStep(1_625, 1_750, 70_700), "one segment stepped up 70.8 kB where the others moved 100 B\n{0}", p.Report());
        p.Growth.ExceedsWhileRising(0).Should().BeFalse("without the step the measured checkpoints do not rise\n{0}", p.Report());
        verdict.Passed.Should().BeTrue("a step that does not come back is not a leak: {0}\n{1}", verdict.Finding, p.Report());
        p.Report().Should().Contain("Set aside: between iterations 1,625 and 1,750 the heap stepped up 69.04kB beyond what every other segment grew, once");
    }

    [Fact]
    public void A_repeat_pass_within_a_non_zero_bound_refutes_the_measured_growth()
    {
        // The pass retains 5 B per iteration, within an 8 B bound; only the measured burst was above it.
        var p = Profile(Burst, (2_000, 1_600_000), (12_000, 1_650_000), (22_000, 1_700_000), (32_000, 1_750_000), (40_000, 1_790_000));

        var verdict = Verdict.PerIteration(p, 8.Bytes().PerIteration());

        p.Growth.ExceedsWhileRising(8).Should().BeTrue("the measured checkpoints alone say leak\n{0}", p.Report());
        verdict.Passed.Should().BeTrue("the pass stayed within the bound: {0}\n{1}", verdict.Finding, p.Report());
    }

    [Fact]
    public void A_leak_after_a_burst_still_fails_over_a_long_repeat_pass()
    {
        // The burst, then the pass grows 14 B per iteration: what the measured lower bound predicts.
        var p = Profile(Burst, (2_000, 1_600_000), (12_000, 1_740_000), (22_000, 1_880_000), (32_000, 2_020_000), (40_000, 2_132_000));

        var verdict = Verdict.PerIteration(p, 0.Bytes().PerIteration());

        p.Growth.ExceedsWhileRising(0).Should().BeTrue("the measured checkpoints alone say leak\n{0}", p.Report());
        verdict.Passed.Should().BeFalse("the pass repeated the growth: {0}\n{1}", verdict.Finding, p.Report());
    }

    [Fact]
    public void Growth_that_repeats_is_a_leak()
    {
        var p = Profile(Burst, (2_000, 1_600_000), (12_000, 1_700_000), (22_000, 1_800_000), (32_000, 1_900_000), (40_000, 2_000_000));

        Verdict.PerIteration(p, 0.Bytes().PerIteration()).Passed.Should().BeFalse(p.Report());
    }

    [Fact]
    public void A_repeat_pass_too_short_to_tell_does_not_refute()
    {
        // The lower-bound slope over 100 more iterations predicts less than 4x the noise floor: no evidence either way.
        var p = Profile(Burst, (2_000, 1_600_000), (2_100, 1_600_000));

        Verdict.PerIteration(p, 0.Bytes().PerIteration()).Passed.Should().BeFalse(p.Report());
    }

    // A list's backing array doubling: 20 kB every other segment, flat between, 80 B an iteration on average.
    private static readonly long[] Stairs = [.. Enumerable.Range(0, 17).Select(k => 1_000_000 + (k + 1) / 2 * 20_000L)];

    [Fact]
    public void A_flat_end_shorter_than_the_room_a_resize_left_does_not_refute_a_leak()
    {
        // The last doubling added 160 kB: a leak at the lower bound fills that room for 2,000 iterations and more.
        var p = Profile(Stairs, (2_000, 1_200_000), (2_500, 1_360_000), (3_000, 1_360_000), (3_500, 1_360_100), (4_000, 1_360_000));

        var verdict = Verdict.PerIteration(p, 0.Bytes().PerIteration());

        verdict.Passed.Should().BeFalse("{0}\n{1}", verdict.Finding, p.Report());
        p.Report().Should().Contain("Trend: still rising at the end, as a leak does.");
    }

    [Fact]
    public void A_flat_end_longer_than_any_room_a_resize_left_refutes_the_staircase()
    {
        var p = Profile(Stairs, (2_000, 1_200_000), (2_500, 1_360_000), (3_000, 1_360_000), (8_000, 1_360_100), (14_000, 1_359_000));

        var verdict = Verdict.PerIteration(p, 0.Bytes().PerIteration());

        verdict.Passed.Should().BeTrue("{0}\n{1}", verdict.Finding, p.Report());
        verdict.Finding.Should().Match("grew 80B per iteration over the measured iterations, in steps with flat stretches between, as a resizing container does; then the repeat pass rose no more than 16kB over its last 11,500 iterations, where a leak of at least * per iteration (the 99% lower bound) would have added *, more than the 312.50kB of spare room a resizing container could have held (twice its largest step): the growth levelled off", p.Report());
    }

    [Fact]
    public void A_repeat_pass_that_grows_again_at_its_end_is_not_levelled_off()
    {
        var p = Profile(Stairs, (2_000, 1_200_000), (2_500, 1_360_000), (8_000, 1_360_000), (14_000, 1_520_000));

        p.LevelOff.Should().BeNull(p.Report());
        Verdict.PerIteration(p, 0.Bytes().PerIteration()).Passed.Should().BeFalse(p.Report());
    }

    [Fact]
    public void A_total_bound_is_not_refuted_by_the_repeat_pass()
    {
        // A cache that fills once is growth a total bound means to catch, whether or not it repeats.
        var p = Profile(Burst, (2_000, 1_600_000), (40_000, 1_600_000));

        Verdict.Total(p, 64.KB()).Passed.Should().BeFalse(p.Report());
    }
}

public sealed class RepeatPassLengthTests
{
    [Theory]
    [InlineData(10, 6_554)]   // 4 x 16 kB / 10 B: three times as long as the measured pass
    [InlineData(20, 3_277)]
    [InlineData(1_000, 2_000)] // a big leak: as long as the measured pass, which already says enough
    public void Without_a_session_the_pass_is_long_enough_for_a_leak_at_the_lower_bound_to_retain_four_noise_floors(int bytesPerIteration, int expected)
    {
        var fit = GrowthFit.Of(Enumerable.Range(0, 17).Select(k => new Checkpoint(k * 125, 1_000_000 + k * 125L * bytesPerIteration + (k % 2) * 16)).ToArray());
        fit.Trend.Should().Be(GrowthTrend.Rising);

        var iterations = Runner.RepeatIterations(fit, 2_000, separatePass: true, recording: false, TimeSpan.FromMilliseconds(100), new LeakOptions());

        iterations.Should().BeCloseTo(expected, 10, "lower bound {0:F2} B", fit.SlopeLowerBound99);
    }
}

/// <summary>The repeat pass on the real heap: it runs after rising growth even without a sampling session.</summary>
[Collection(HeapCollection.Name)]
public sealed class RepeatPassHeapTests
{
    [Fact]
    public void Rising_growth_is_run_again_without_a_session_and_a_real_leak_repeats()
    {
        var profile = Leak.Profile(new StaticListLeak().Remember, iterations: 1_000, new LeakOptions { Sampling = SamplingMode.Off });
        StaticListLeak.Clear();

        profile.RepeatPass.Should().NotBeNull(profile.Report());
        profile.RepeatPass!.Value.Iterations.Should().Be(1_000, profile.Report());
        profile.RepeatPass.Value.GrowthBytes.Should().BeGreaterThan(900_000, "1,000 more iterations of a 1 kB leak\n{0}", profile.Report());
        FluentActions.Invoking(() => profile.Should().NotRetainMoreThan(0.Bytes().PerIteration())).Should().Throw<Xunit.Sdk.XunitException>(profile.Report());
    }

    [Fact]
    public void Without_a_session_growth_that_stops_with_the_measured_pass_gets_a_repeat_pass_long_enough_to_refute_it()
    {
        var calls = 0;
        var keep = new List<object>(2_100);
        // 24 B an iteration kept during the 2,000 measured iterations (after 200 warmup) and never again: growth
        // from something that stopped, not a leak, with a lower bound too small for a pass as long as the measured one.
        var profile = Leak.Profile(() => { if (++calls is > 200 and <= 2_200) keep.Add(new object()); }, iterations: 2_000,
            new LeakOptions { Sampling = SamplingMode.Off });

        profile.Growth.Trend.Should().Be(GrowthTrend.Rising, "the measured pass grew steadily\n{0}", profile.Report());
        var wanted = 4 * 16 * 1024 / profile.Growth.SlopeLowerBound99;
        profile.RepeatPass!.Value.Iterations.Should().BeGreaterThanOrEqualTo((int)Math.Min(wanted, 64 * 2_000), "a leak at the lower bound retains four noise floors over it\n{0}", profile.Report());
        profile.Should().NotRetainMoreThan(0.Bytes().PerIteration(), "the growth does not repeat\n{0}", profile.Report());
        GC.KeepAlive(keep);
    }

    [Fact]
    public void Flat_growth_is_not_run_again()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 1_000);

        profile.RepeatPass.Should().BeNull(profile.Report());
        profile.RepeatPassCheckpoints.Should().BeEmpty(profile.Report());
    }
}
