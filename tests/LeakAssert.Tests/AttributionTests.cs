using LeakAssert.Profiles;
using LeakAssert.Reporting;

namespace LeakAssert.Tests;

/// <summary>The sampled profile names the allocation site of real leaks, and only the workload's.</summary>
[Collection(HeapCollection.Name)]
public sealed class AttributionTests
{
    [Fact]
    public void A_five_megabyte_leak_has_its_allocating_method_as_the_first_row_of_top()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 5_000);
        StaticListLeak.Clear();

        var diff = profile.Profiles!.Diff;
        var top = Top.Of(diff, SampleValue.InuseSpace);
        top.Rows[0].Function.Should().Be("LeakAssert.Tests.StaticListLeak.Remember", profile.Report());
        top.Rows[0].Samples.Should().BeGreaterThanOrEqualTo(6, "about 25 are due, and fewer than 6 one run in a million\n{0}", profile.Report());
        profile.ProfiledFromIteration.Should().Be(5_000, "the sampled pass runs after the measured iterations\n{0}", profile.Report());

        // 11 samples where 25 were due, once beside a second suite: the band comes from the exact growth (StandardError).
        var estimate = diff.Total(SampleValue.InuseSpace);
        estimate.Should().BeCloseTo(profile.ProfiledGrowth.Bytes, (ulong)(5 * StandardError(profile.ProfiledGrowth.Bytes, StaticListLeak.ArrayBytes)),
            "the estimate is unbiased: a sample per {0} B allocated, so a Poisson count of them\n{1}", HeapProfile.SamplingPeriodBytes, profile.Report());

        // The row of the leaking method: the list's own backing array may outweigh it when an earlier test grew it.
        var leaf = diff.Samples.First(s => s.Stack[0].Function == "LeakAssert.Tests.StaticListLeak.Remember").Stack[0];
        leaf.File.Should().EndWith("Workloads.cs", "the test assembly's portable PDB gives file and line\n{0}", profile.Report());
        leaf.Line.Should().BePositive(profile.Report());
        profile.Report().Should().Contain("LeakAssert.Tests.StaticListLeak.Remember (Workloads.cs:");
    }

    // The spread of a sampled estimate over growth of objects of one size, from the exact growth rather than the samples
    // a run drew: a run that drew few by chance also has a margin too small to cover its own miss. Each of the
    // growth/size objects is sampled with the runtime's inclusion probability and adds the product's per-sample variance.
    private static double StandardError(long growthBytes, long objectBytes) =>
        Math.Sqrt((double)growthBytes / objectBytes * SampleWeight.InclusionProbability(objectBytes) * SampleWeight.ByteVariance(objectBytes));

    [Fact]
    public void Stacks_start_at_the_workload_not_at_the_runner_or_the_test_framework()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(() => leak.Remember(), iterations: 3_000);
        StaticListLeak.Clear();

        var frames = profile.Profiles!.After.Samples.SelectMany(s => s.Stack).Select(f => f.Function).ToList();
        frames.Should().NotBeEmpty(profile.Report());
        frames.Should().NotContain(f => f.StartsWith("LeakAssert.Measurement", StringComparison.Ordinal) || f.StartsWith("Xunit", StringComparison.Ordinal), profile.Report());
        profile.Profiles.Diff.Samples.Should().OnlyContain(
            s => s.Stack.Last().Function.Contains("AttributionTests", StringComparison.Ordinal) || s.Stack.Last().Function == "LeakAssert.Tests.StaticListLeak.Remember",
            "the outermost frame is the lambda handed to Leak.Profile, or what it calls when the JIT turned that call into a tail call\n{0}", profile.Report());
    }

    [Fact]
    public void Allocations_by_other_threads_are_left_out_of_the_profile()
    {
        using var stop = new CancellationTokenSource();
        long churned = 0;
        using var running = new ManualResetEventSlim();
        var polluter = new Thread(() => { running.Set(); while (!stop.IsCancellationRequested) churned += Garbage.Churn(); }) { IsBackground = true };
        polluter.Start();
        running.Wait();
        try
        {
            var leak = new StaticListLeak();
            var profile = Leak.Profile(leak.Remember, iterations: 2_000);
            StaticListLeak.Clear();

            profile.Profiles.Should().NotBeNull(profile.Report());
            profile.Profiles!.ForeignSamples.Should().BeGreaterThan(0, "the polluting thread allocated {0} bytes while the session ran ({1} samples in all)\n{2}", Volatile.Read(ref churned), profile.Profiles.TotalSamples, profile.Report());
            profile.Profiles.After.Samples.SelectMany(s => s.Stack).Should().NotContain(f => f.Function.Contains("Garbage.Churn", StringComparison.Ordinal), profile.Report());
        }
        finally
        {
            stop.Cancel();
            polluter.Join();
        }
    }

    [Fact]
    public void A_large_object_heap_leak_is_followed_through_full_collections()
    {
        var profile = Leak.Profile(LargeObjectLeak.Remember, iterations: 150, new LeakOptions { Warmup = 5 });
        LargeObjectLeak.Sink.Clear();

        var diff = profile.Profiles!.Diff;
        Top.Of(diff, SampleValue.InuseSpace).Rows[0].Function.Should().Be("LeakAssert.Tests.LargeObjectLeak.Remember", profile.Report());
        diff.Total(SampleValue.InuseSpace).Should().BeCloseTo(profile.ProfiledGrowth.Bytes, (ulong)(5 * StandardError(profile.ProfiledGrowth.Bytes, LargeObjectLeak.ArrayBytes)),
            "a 100 kB object is sampled with probability {0:F2} and the estimate stays unbiased\n{1}", SampleWeight.InclusionProbability(LargeObjectLeak.ArrayBytes), profile.Report());
    }

    [Fact]
    public async Task An_async_leak_is_attributed_to_the_async_method_even_after_it_resumes_on_another_thread()
    {
        var profile = await Leak.ProfileAsync(AsyncLeak.HandleAsync, iterations: 2_000);
        AsyncLeak.Sink.Clear();

        profile.TrafficScope.Should().Contain("process-wide", profile.Report());
        Top.Of(profile.Profiles!.Diff, SampleValue.InuseSpace).Rows[0].Function.Should().Contain("AsyncLeak+<HandleAsync>", profile.Report());
    }

    [Fact]
    public void A_small_rising_leak_gets_a_sampled_pass_long_enough_for_its_samples_but_is_judged_on_the_measured_iterations()
    {
        var profile = Leak.Profile(() => SmallLeak.Sink.Add(new byte[40]), iterations: 2_000);
        SmallLeak.Sink.Clear();

        profile.GrowthWithoutHostStep().Should().BeCloseTo(2_000 * 64, 32 * 1024, "64-byte arrays over the measured iterations only\n{0}", profile.Report());
        profile.ProfiledFromIteration.Should().Be(2_000, profile.Report());
        profile.RepeatPassIterations.Should().BeGreaterThan(20_000, "20 samples of ~100 KiB at 64 B an iteration need about 40,000\n{0}", profile.Report());
        profile.Profiles!.Diff.SampleCount(SampleValue.InuseSpace).Should().BeGreaterThanOrEqualTo(3,
            "the pass aims at 25 samples (the 20 wanted and a quarter more); even at 20 due, a Poisson count falls below 3 once in two million runs\n{0}", profile.Report());
        profile.Report().Should().Contain("sampled heap profile of a second pass of");
    }

    [Fact]
    public void With_sampling_always_the_session_covers_the_measured_iterations_and_extends_them_only_for_samples()
    {
        var profile = Leak.Profile(() => SmallLeak.Sink.Add(new byte[40]), iterations: 2_000, new LeakOptions { Sampling = SamplingMode.Always });
        SmallLeak.Sink.Clear();

        profile.SamplingProblem.Should().BeNull(profile.Report());
        profile.Growth.Trend.Should().Be(Measurement.GrowthTrend.Rising, profile.Report());
        profile.ProfiledFromIteration.Should().Be(0, profile.Report());
        profile.RepeatPassIterations.Should().BeGreaterThan(2_000, profile.Report());
        profile.Profiles!.Diff.SampleCount(SampleValue.InuseSpace).Should().BeGreaterThanOrEqualTo(3,
            "the session aims at 25 samples (the 20 wanted and a quarter more); even at 20 due, a Poisson count falls below 3 once in two million runs\n{0}", profile.Report());
        profile.Report().Should().Contain("more iterations ran for attribution only");
    }

    [Fact]
    public void A_run_without_growth_pays_for_no_session_and_says_why_it_has_no_profile()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 1_000);

        profile.Profiles.Should().BeNull(profile.Report());
        profile.SamplingProblem.Should().Contain("so no sampled pass ran", profile.Report());
        profile.Report().Should().Contain("No heap profile: ");

        var always = Leak.Profile(() => Garbage.Churn(), iterations: 1_000, new LeakOptions { Sampling = SamplingMode.Always });
        always.Profiles!.Diff.SampleCount(SampleValue.AllocSpace).Should().BeGreaterThan(100, "50 MB of churn leaves about 500 alloc samples\n{0}", always.Report());
        always.Profiles.Diff.Total(SampleValue.InuseSpace).Should().BeInRange(-300_000, 300_000, "the churn does not survive\n{0}", always.Report());
    }
}
