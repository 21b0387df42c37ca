namespace LeakAssert.Tests;

/// <summary>The exact figures the verdict rests on, checked against leaks of known size.</summary>
[Collection(HeapCollection.Name)]
public sealed class ExactGrowthTests
{
    [Fact]
    public void Retained_growth_of_a_known_leak_is_exact_to_a_few_kilobytes()
    {
        var leak = new StaticListLeak();
        LeakProfile Measure()
        {
            var measured = Leak.Profile(leak.Remember, iterations: 2_000, new LeakOptions { Sampling = SamplingMode.Off });
            StaticListLeak.Clear();
            return measured;
        }
        // The figure is the process's: a segment the fit set aside shows that another thread (the test host's
        // reporting, on a machine loaded 15 times over its cores) freed or kept memory inside the window, which is no
        // error of the measurement. Only then is it measured once more.
        var profile = Measure();
        if (profile.Growth.SetAside is not null) profile = Measure();

        const long expected = 2_000 * 1_024; // the list's capacity was reserved up front: only the arrays grow
        profile.RetainedGrowth.Bytes.Should().BeCloseTo(expected, 16 * 1024, profile.Report());
        profile.Growth.SlopeBytesPerIteration.Should().BeApproximately(1_024, 16, profile.Report());
        profile.Growth.RSquared.Should().BeGreaterThan(0.99, profile.Report());
        // 16 after the baseline, 6 when the test host's heap is large.
        var expectedCheckpoints = Measurement.Runner.CheckpointsFor(profile.Checkpoints[0].RetainedBytes, new LeakOptions()) + 1;
        profile.Checkpoints.Should().HaveCount(expectedCheckpoints, "the checkpoints after the baseline\n{0}", profile.Report());
        profile.Checkpoints.Select(c => c.Iteration).Should().BeInAscendingOrder(profile.Report()).And.EndWith(2_000, profile.Report());
    }

    [Fact]
    public void What_LeakAssert_keeps_for_its_checkpoints_is_allocated_before_the_baseline()
    {
        // Made inside the window, the checkpoint list (16 B a checkpoint) and the segment's closure counted as growth
        // from the first checkpoint on: 4.2 kB at 256. So the step from the baseline to the first checkpoint is read,
        // not the end: the test host's threads free or keep a kB or two somewhere in a 257-checkpoint window now and then
        // (-1.66 kB at iteration 382 in all three runs once, beside a second suite), and only rarely in its first 1/256.
        var options = new LeakOptions { Checkpoints = 256, Sampling = SamplingMode.Off, HeapSnapshots = HeapSnapshotMode.Off };
        var profiles = Enumerable.Range(0, 3).Select(_ => Leak.Profile(() => { }, iterations: 2_000, options)).ToList();
        var closest = profiles.MinBy(FirstStep)!;

        closest.Checkpoints.Should().HaveCountGreaterThan(200, closest.Report());
        FirstStep(closest).Should().BeLessThan(1_024, "an empty workload retains nothing, at any number of checkpoints\n{0}", closest.Report());

        static long FirstStep(LeakProfile p) => Math.Abs(p.Checkpoints[1].RetainedBytes - p.Checkpoints[0].RetainedBytes);
    }

    [Fact]
    public void Allocation_traffic_per_iteration_is_exact_for_a_sync_workload()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 1_000, new LeakOptions { Sampling = SamplingMode.Off });

        profile.AllocatedBytesPerIteration.Should().BeApproximately(50 * 1_024, 64, profile.Report());
        profile.TrafficScope.Should().Contain("this thread", profile.Report());
    }

    [Fact]
    public void Warmup_iterations_are_run_but_not_measured()
    {
        var calls = 0;
        var profile = Leak.Profile(() => calls++, iterations: 500, new LeakOptions { Warmup = 37, Sampling = SamplingMode.Off });

        // A repeat pass runs too when growth from elsewhere in the test host made the measured pass look rising.
        calls.Should().Be(537 + profile.RepeatPassIterations, "37 warmup, 500 measured and any repeat pass\n{0}", profile.Report());
        profile.Warmup.Should().Be(37, profile.Report());
        profile.Iterations.Should().Be(500, profile.Report());
    }

    [Fact]
    public void Without_a_count_the_iterations_fill_the_time_budget_and_a_leak_is_still_caught()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(leak.Remember, new LeakOptions { TimeBudget = TimeSpan.FromMilliseconds(200), Sampling = SamplingMode.Off });
        StaticListLeak.Clear();

        profile.TimeBudget.Should().Be(TimeSpan.FromMilliseconds(200), profile.Report());
        profile.Iterations.Should().BeGreaterThan(1_000, "a 1 kB append takes well under 200 microseconds\n{0}", profile.Report());
        profile.Report().Should().Contain("the count fills a 0.2 s budget timed in the warmup");
        FluentActions.Invoking(() => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration())).Should().Throw<Xunit.Sdk.XunitException>(profile.Report());
    }

    [Fact]
    public void Without_a_count_a_fast_large_leak_is_capped_so_the_run_retains_about_256_megabytes_at_most()
    {
        var profile = Leak.Profile(() => LargeObjectLeak.Sink.Add(new byte[1 << 20]), new LeakOptions { TimeBudget = TimeSpan.FromSeconds(5), Sampling = SamplingMode.Off, Warmup = 8 });
        LargeObjectLeak.Sink.Clear();

        profile.Iterations.Should().BeInRange(16, 256, profile.Report());
        profile.RetainedGrowth.Bytes.Should().BeLessThanOrEqualTo(257L << 20, profile.Report());
    }
}
