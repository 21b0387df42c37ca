using LeakAssert.Measurement;
using System.Runtime;

namespace LeakAssert.Tests;

/// <summary>Runs end cleanly: exceptions surface unchanged, the GC mode and temp files are restored, calls take turns.</summary>
[Collection(HeapCollection.Name)]
public sealed class RunnerTests
{
    [Fact]
    public void An_exception_from_the_workload_surfaces_unchanged_with_its_iteration_and_everything_is_cleaned_up()
    {
        var modeBefore = GCSettings.LatencyMode;
        var tempBefore = LeakAssertTempFolders();
        var calls = 0;
        var boom = new InvalidOperationException("the workload broke");

        var act = () => Leak.Profile(() => { if (++calls == 7) throw boom; }, iterations: 100, new LeakOptions { Warmup = 0 });

        act.Should().Throw<InvalidOperationException>().Which.Should().BeSameAs(boom);
        boom.Data["LeakAssert.Iteration"].Should().Be("measured iteration 7");
        GCSettings.LatencyMode.Should().Be(modeBefore);
        LeakAssertTempFolders().Should().BeEquivalentTo(tempBefore, "the session's trace files are deleted");
    }

    [Fact]
    public async Task An_async_exception_in_warmup_names_the_warmup_iteration()
    {
        var calls = 0;
        var act = () => Leak.ProfileAsync(async () => { await Task.Yield(); if (++calls == 3) throw new FormatException("bad"); }, iterations: 50, new LeakOptions { Warmup = 5 });

        (await act.Should().ThrowAsync<FormatException>()).Which.Data["LeakAssert.Iteration"].Should().Be("warmup iteration 3");
    }

    [Fact]
    public async Task Concurrent_profiles_in_one_process_take_turns_and_do_not_pollute_each_other()
    {
        var leak = new StaticListLeak();
        var options = new LeakOptions { AttributionBudget = TimeSpan.Zero };
        var leaky = Task.Run(() => Leak.Profile(leak.Remember, iterations: 2_000, options));
        var clean = Task.Run(() => Leak.Profile(() => Garbage.Churn(), iterations: 2_000, options));
        await Task.WhenAll(leaky, clean);
        StaticListLeak.Clear();

        (await leaky).GrowthWithoutHostStep().Should().BeCloseTo(2_000 * 1_024, 32 * 1024, (await leaky).Report());
        (await clean).RetainedGrowth.Bytes.Should().BeLessThan(32 * 1024, "the leak ran before or after, never during\n{0}", (await clean).Report());
    }

    private static string[] LeakAssertTempFolders() =>
        Directory.GetDirectories(Path.GetTempPath(), Sampling.SamplingSession.FolderPrefix + "*");

    [Fact]
    public void A_workload_that_calls_Leak_Profile_is_refused_instead_of_waiting_on_itself()
    {
        var act = () => Leak.Profile(() => Leak.Profile(() => { }, 10), iterations: 10, new LeakOptions { Warmup = 0 });

        act.Should().Throw<InvalidOperationException>().WithMessage("Leak.Profile was called from inside a workload that Leak.Profile is measuring*");
        var next = Leak.Profile(() => { }, 10);
        next.Iterations.Should().Be(10, "the refused call left nothing locked\n{0}", next.Report());
    }

    [Fact]
    public void LeakAssert_itself_retains_nothing_across_calls_that_run_the_session()
    {
        var leak = new StaticListLeak();
        var options = new LeakOptions { Sampling = SamplingMode.Always, AttributionBudget = TimeSpan.Zero };
        for (var i = 0; i < 3; i++) Leak.Profile(leak.Remember, 500, options); // one-time JIT, type loads, parser caches
        StaticListLeak.Clear();
        var before = ForcedGc.RetainedBytes();

        for (var i = 0; i < 5; i++)
        {
            ProfileOnce(leak, options);
            StaticListLeak.Clear();
        }

        // Measured: the session itself retains ~150 B a call; reading the trace (TraceEvent) a few kB more, growing with
        // the trace. A retained parser, session or profile would be hundreds of kB to megabytes.
        (ForcedGc.RetainedBytes() - before).Should().BeLessThan(256 * 1024, "five traced runs leave no trace parser, session or profile behind");

        // A method of its own, so that no local of the test keeps the last profile alive (a Debug build would).
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void ProfileOnce(StaticListLeak leak, LeakOptions options)
        {
            var profile = Leak.Profile(leak.Remember, 500, options);
            profile.Profiles.Should().NotBeNull(profile.Report());
        }
    }
}
