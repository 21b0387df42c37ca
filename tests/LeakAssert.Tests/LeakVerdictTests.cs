using Xunit.Sdk;
using LeakAssert.Measurement;

namespace LeakAssert.Tests;

/// <summary>Real leaks fail and real non-leaks pass, on the exact figures, through the public assertion.</summary>
[Collection(HeapCollection.Name)]
public sealed class LeakVerdictTests
{
    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    [Fact]
    public void A_static_list_that_only_grows_fails_the_bound()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 2_000, Quick);
        StaticListLeak.Clear();

        profile.Growth.Trend.Should().Be(GrowthTrend.Rising, profile.Report());
        var failing = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration(), "because requests are independent");
        failing.Should().Throw<XunitException>(profile.Report())
            .WithMessage("Expected profile to have at most 64B retained per iteration because requests are independent, but it retained * per iteration and still rising at the end*");
        var total = () => profile.Should().NotRetainMoreThan(1.MB());
        total.Should().Throw<XunitException>(profile.Report()).WithMessage("*FAILED: expected at most 1MB retained over 2,000 iterations*");
    }

    [Fact]
    public void An_event_handler_never_removed_fails_the_bound()
    {
        var profile = Leak.Profile(() => PriceWidget.Open(), iterations: 2_000, Quick);
        PricePublisher.Instance.Reset();

        profile.Growth.Trend.Should().Be(GrowthTrend.Rising, profile.Report());
        profile.Growth.SlopeBytesPerIteration.Should().BeGreaterThan(2_000, "each widget holds a 2,000-byte chart\n{0}", profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<XunitException>(profile.Report());
    }

    [Fact]
    public void A_cache_keyed_by_unique_ids_fails_the_bound()
    {
        var profile = Leak.Profile(SessionCache.Remember, iterations: 3_000, Quick);
        SessionCache.Entries.Clear();

        var act = () => profile.Should().NotRetainMoreThan(100.Bytes().PerIteration());
        act.Should().Throw<XunitException>(profile.Report()).WithMessage("*still rising*");
    }

    [Fact]
    public void An_undisposed_timer_fails_the_bound()
    {
        var profile = Leak.Profile(() => HeartbeatMonitor.Start(), iterations: 2_000, Quick);

        profile.Growth.SlopeBytesPerIteration.Should().BeGreaterThan(500, "the timer queue roots each monitor and its 500-byte history\n{0}", profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<XunitException>(profile.Report());
    }

    [Fact]
    public void A_timer_nobody_references_is_finalized_and_does_not_leak()
    {
        var profile = Leak.Profile(() => new Timer(_ => { }, new byte[500], TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan), iterations: 2_000, Quick);

        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration(), "an unreferenced timer is finalized and closes itself");
    }

    [Fact]
    public void A_hundred_megabytes_of_garbage_passes()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 2_000, Quick);

        profile.AllocatedBytesPerIteration.Should().BeGreaterThan(50_000, "each call allocates 50 arrays of 1,024 bytes\n{0}", profile.Report());
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration()).And.NotRetainMoreThan(64.KB());
        // Not Rising; a few kB of the test host's own reporting may show as a small plateau when the machine is busy.
        profile.Growth.Trend.Should().NotBe(GrowthTrend.Rising, profile.Report());
    }

    [Fact]
    public void A_cache_that_fills_then_plateaus_passes_the_per_iteration_bound()
    {
        var cache = new BoundedCache();
        var profile = Leak.Profile(() => cache.Get(), iterations: 4_000, Quick with { Warmup = 100 });

        profile.RetainedGrowth.Bytes.Should().BeGreaterThan(300_000, "900 entries of ~560 bytes are added after the warmup\n{0}", profile.Report());
        profile.Growth.Trend.Should().Be(GrowthTrend.Plateau, profile.Report());
        profile.Should().NotRetainMoreThan(16.Bytes().PerIteration());
        var total = () => profile.Should().NotRetainMoreThan(100.KB(), "a total bound still sees the cache");
        total.Should().Throw<XunitException>(profile.Report());
    }

    [Fact]
    public async Task An_async_workload_that_leaks_fails_and_one_that_does_not_passes()
    {
        var leaky = await Leak.ProfileAsync(AsyncLeak.HandleAsync, iterations: 1_000, Quick);
        AsyncLeak.Sink.Clear();
        var clean = await Leak.ProfileAsync(async () => { await Task.Yield(); _ = new byte[2000]; }, iterations: 1_000, Quick);

        var act = () => leaky.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<XunitException>(leaky.Report());
        clean.Should().NotRetainMoreThan(64.Bytes().PerIteration());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Too_few_iterations_never_pass_a_per_iteration_bound(int iterations)
    {
        var keep = new List<byte[]>();
        var profile = Leak.Profile(() => keep.Add(new byte[1 << 20]), iterations, new LeakOptions { Warmup = 0 });

        var act = () => profile.Should().NotRetainMoreThan(0.Bytes().PerIteration());

        act.Should().Throw<XunitException>("{0} iterations of a 1 MB leak cannot tell a leak from a plateau\n{1}", iterations, profile.Report())
            .WithMessage("*too few to tell a leak from a cache that levels off*at least 4 iterations*");
        profile.Should().NotRetainMoreThan(16.MB(), "a total bound is still decided\n{0}", profile.Report());
        GC.KeepAlive(keep);
    }

    [Fact]
    public void Two_thousand_iterations_that_keep_nothing_pass_a_per_iteration_bound()
    {
        var keep = new List<byte[]>();
        var profile = Leak.Profile(() => { keep.Clear(); keep.Add(new byte[1_000]); }, 2_000, new LeakOptions { Warmup = 0 });

        profile.Should().NotRetainMoreThan(0.Bytes().PerIteration(), "one array is replaced each iteration\n{0}", profile.Report());
    }

    [Fact]
    public void The_smallest_leak_a_bare_object_per_iteration_is_caught_over_ten_thousand_iterations()
    {
        var profile = Leak.Profile(SmallLeak.Remember, iterations: 10_000, Quick);
        SmallLeak.Sink.Clear();

        profile.Growth.Trend.Should().Be(GrowthTrend.Rising, profile.Report());
        profile.Growth.SlopeBytesPerIteration.Should().BeInRange(20, 32, "an object is 24 bytes and the list's capacity was reserved up front\n{0}", profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(16.Bytes().PerIteration());
        act.Should().Throw<XunitException>(profile.Report());
    }
}
