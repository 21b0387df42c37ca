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
        top.Rows[0].Function.Should().Be("LeakAssert.Tests.StaticListLeak.Remember");
        top.Rows[0].Samples.Should().BeGreaterThan(20);

        var estimate = diff.Total(SampleValue.InuseSpace);
        estimate.Should().BeCloseTo(profile.RetainedGrowth.Bytes, (ulong)(2.1 * diff.InuseBytesMargin95),
            "the estimate is unbiased; 2.1 times its 95% margin is about four standard errors\n{0}", profile.Report());

        var leaf = diff.Samples[0].Stack[0];
        leaf.File.Should().EndWith("Workloads.cs", "the test assembly's portable PDB gives file and line");
        leaf.Line.Should().BePositive();
        profile.Report().Should().Contain("LeakAssert.Tests.StaticListLeak.Remember (Workloads.cs:");
    }

    [Fact]
    public void Stacks_start_at_the_workload_not_at_the_runner_or_the_test_framework()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(() => leak.Remember(), iterations: 3_000);
        StaticListLeak.Clear();

        var frames = profile.Profiles!.After.Samples.SelectMany(s => s.Stack).Select(f => f.Function).ToList();
        frames.Should().NotBeEmpty();
        frames.Should().NotContain(f => f.StartsWith("LeakAssert.Measurement", StringComparison.Ordinal) || f.StartsWith("Xunit", StringComparison.Ordinal));
        profile.Profiles.Diff.Samples.Should().OnlyContain(s => s.Stack.Last().Function.Contains("AttributionTests", StringComparison.Ordinal),
            "the outermost frame is the lambda handed to Leak.Profile");
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

            profile.Profiles.Should().NotBeNull(profile.SamplingProblem);
            profile.Profiles!.ForeignSamples.Should().BeGreaterThan(0, "the polluting thread allocated {0} bytes while the session ran ({1} samples in all)", Volatile.Read(ref churned), profile.Profiles.TotalSamples);
            profile.Profiles.After.Samples.SelectMany(s => s.Stack).Should().NotContain(f => f.Function.Contains("Garbage.Churn", StringComparison.Ordinal));
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
        Top.Of(diff, SampleValue.InuseSpace).Rows[0].Function.Should().Be("LeakAssert.Tests.LargeObjectLeak.Remember");
        diff.Total(SampleValue.InuseSpace).Should().BeCloseTo(profile.RetainedGrowth.Bytes, (ulong)(0.35 * profile.RetainedGrowth.Bytes),
            "a 100 kB object is sampled with probability 0.62, so 150 of them leave about 93 samples");
    }

    [Fact]
    public async Task An_async_leak_is_attributed_to_the_async_method_even_after_it_resumes_on_another_thread()
    {
        var profile = await Leak.ProfileAsync(AsyncLeak.HandleAsync, iterations: 2_000);
        AsyncLeak.Sink.Clear();

        profile.TrafficScope.Should().Contain("process-wide");
        Top.Of(profile.Profiles!.Diff, SampleValue.InuseSpace).Rows[0].Function.Should().Contain("AsyncLeak+<HandleAsync>");
    }

    [Fact]
    public void A_leak_too_small_to_sample_runs_more_iterations_for_attribution_but_is_judged_on_the_measured_ones()
    {
        var profile = Leak.Profile(() => SmallLeak.Sink.Add(new byte[40]), iterations: 2_000);
        SmallLeak.Sink.Clear();

        profile.RetainedGrowth.Bytes.Should().BeCloseTo(2_000 * 72, 24 * 1024, "64-byte arrays plus their 8-byte list slots, over the measured iterations only");
        profile.AttributionIterations.Should().BeGreaterThan(2_000);
        profile.Profiles!.Diff.SampleCount(SampleValue.InuseSpace).Should().BeGreaterThanOrEqualTo(4, profile.Report());
        profile.Report().Should().Contain("more iterations ran for attribution only");
    }
}
