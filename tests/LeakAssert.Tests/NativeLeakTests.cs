using Fixtures;
using LeakAssert.Measurement;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>
/// Leaks outside the GC heap, built from the framework itself, fail the assertions and name what grew; their fixed
/// twins pass; and busy workloads that grow the same counters once (JIT, the thread pool, compiled regular
/// expressions) pass the defaults every leak assertion brings.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class NativeLeakTests
{
    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    [Fact]
    public void An_assembly_generated_per_call_fails_naming_the_generated_assemblies()
    {
        var profile = Leak.Profile(() => GeneratedSerializers.GenerateEveryCall(), iterations: 300, Quick);

        profile.OutsideHeap!.Assemblies.IsRising.Should().BeTrue(profile.Report());
        profile.OutsideHeap.Assemblies.Growth.SlopeBytesPerIteration.Should().BeApproximately(1, 0.05, "one assembly a call\n{0}", profile.Report());
        profile.OutsideHeap.NewAssemblies.Should()
            .Contain(new AssemblyGroup(GeneratedSerializers.AssemblyName, IsDynamic: true, IsCollectible: false, "Default", 300), profile.Report());
        var act = () => profile.Should().NotLeakAssemblies("because {0} is generated once", "the serializer");
        act.Should().Throw<XunitException>(profile.Report())
            .WithMessage("Expected profile to have no steady growth in loaded assemblies or assembly load contexts because the serializer is generated once, but it loaded assemblies at 1 per iteration, still rising at the end (* over 300 iterations; 99% lower bound *): *300 x GeneratedSerializer (dynamic, load context \"Default\"); a dynamic assembly that is not collectible is kept by the runtime for the life of the process, so generate it once and reuse it, or define it with AssemblyBuilderAccess.RunAndCollect.*",
                profile.Report());
    }

    [Fact]
    public void A_heap_bound_the_generated_assemblies_stay_within_still_fails_on_them_and_the_report_shows_them()
    {
        var profile = Leak.Profile(() => GeneratedSerializers.GenerateEveryCall(), iterations: 300, Quick);

        // Each assembly retains a few hundred bytes of heap: under the bound, which alone would pass.
        profile.Growth.SlopeBytesPerIteration.Should().BeLessThan(1_024, profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(1.KB().PerIteration());
        var message = act.Should().Throw<XunitException>(profile.Report()).Which.Message;
        message.Should().Contain("FAILED: expected no steady growth in loaded assemblies or assembly load contexts; loaded assemblies at 1 per iteration", profile.Report())
            .And.Contain("Outside the GC heap, at the same checkpoints")
            .And.Contain("New assemblies: 300 x GeneratedSerializer (dynamic, load context \"Default\").");
        message.Split('\n').Should().Contain(l => l.StartsWith("assemblies ", StringComparison.Ordinal) && l.EndsWith("  still rising", StringComparison.Ordinal), message);
    }

    [Fact]
    public void A_generated_assembly_cached_once_passes()
    {
        var profile = Leak.Profile(() => GeneratedSerializers.GenerateOnce(), iterations: 300, Quick);

        profile.Should().NotLeakAssemblies("the assembly is generated once\n{0}", profile.Report())
            .And.NotRetainMoreThan(0.Bytes().PerIteration(), "the assembly is generated once\n{0}", profile.Report());
        profile.OutsideHeap!.NewAssemblies.Should().BeEmpty(profile.Report());
        profile.Report().Should().NotContain("Outside the GC heap", "nothing grew outside it");
    }

    [Fact]
    public void A_collectible_load_context_kept_alive_fails_and_one_unloaded_passes()
    {
        var (leaky, unloaded) = Twins(Plugins.LoadAndKeep, Plugins.Release, Plugins.LoadAndUnload);

        leaky.OutsideHeap!.LoadContexts.IsRising.Should().BeTrue(leaky.Report());
        var act = () => leaky.Should().NotLeakAssemblies();
        act.Should().Throw<XunitException>(leaky.Report()).WithMessage("*300 x Plugin (collectible, load context \"plugin\")*", leaky.Report());
        unloaded.Should().NotLeakAssemblies("each context is unloaded\n{0}", unloaded.Report());
    }

    [Fact]
    public void A_thread_started_per_call_and_never_stopped_fails_naming_it_and_one_joined_passes()
    {
        var (leaky, joined) = Twins(Workers.StartAndForget, Workers.Release, Workers.StartAndJoin);

        leaky.OutsideHeap!.Threads.Total.Should().BeInRange(295, 305, "a thread a call\n{0}", leaky.Report());
        var act = () => leaky.Should().NotLeakThreads();
        act.Should().Throw<XunitException>(leaky.Report())
            .WithMessage("Expected profile to have no steady growth in threads (beyond the thread pool's), but it started threads that kept running at 1 per iteration, still rising at the end (*): 300 x \"LeakyWorker\".*", leaky.Report());
        var total = () => leaky.Should().NotRetainMoreThan(1.MB());
        total.Should().Throw<XunitException>("a total heap bound brings the defaults too\n{0}", leaky.Report())
            .WithMessage("*FAILED: expected no steady growth in threads*New threads: 300 x \"LeakyWorker\".*");
        joined.Should().NotLeakThreads("each thread is joined\n{0}", joined.Report())
            .And.NotRetainMoreThan(1.KB().PerIteration(), "each thread is joined\n{0}", joined.Report());
    }

    [Fact]
    public void A_thread_started_per_call_is_one_leak_the_running_thread_with_what_its_stack_holds()
    {
        var leaky = Leaking(() => Leak.Profile(Workers.StartAndForget, 300, Quick), Workers.Release);

        var thread = leaky.Leaks.Should().ContainSingle(g => g.BoundaryType == "System.Threading.Thread", leaky.Report()).Which;
        // Each new thread's thread-static storage is its own; its lambda's closure is on its stack only while the JIT
        // reports it live there (not once the lambda is optimised), so only the first is always seen.
        thread.HeldByThreads.Should().Contain(h => h.Root.StartsWith("thread statics", StringComparison.Ordinal), leaky.Report());
        leaky.Leaks.Should().NotContain(g => g.RootKind == Snapshots.RootKind.Stack, "what the threads hold is folded into the thread leak\n{0}", leaky.Report());
        var report = leaky.Report();
        report.Should().MatchRegex(@"Leak 1 \[[0-9a-f]{8}\]: each iteration adds 1(\.0[0-9])? Thread that keeps running, which retains", report);
        report.Should().Contain("still running, by name: 300 x \"LeakyWorker\"", report);
        report.Should().Contain("its thread statics (or a runtime frame) hold: 1", report);
    }

    [Fact]
    public void The_repeat_pass_of_a_thread_leak_at_most_doubles_its_threads()
    {
        // The heap grows too, so a repeat pass runs, sized for heap samples: some 1,600 iterations within the default
        // attribution budget, each a thread that never ends. Each iteration also keeps 1 kB, so that the heap's rise
        // is plain: a Thread object's ~250 B alone made 48 kB over the run, and once, beside a second test suite, the
        // host's release of 12 kB read as "levelled off" and no repeat pass ran.
        var kept = new List<byte[]>();
        var leaky = Leaking(() => Leak.Profile(() =>
        {
            Workers.StartAndForget();
            kept.Add(new byte[1_000]);
        }, iterations: 300), () =>
        {
            Workers.Release();
            kept.Clear();
        });

        leaky.RepeatPassIterations.Should().BeInRange(1, 300, leaky.Report());
    }

    [Fact]
    public void Without_a_count_a_thread_leak_is_capped_at_about_a_thousand_threads()
    {
        var leaky = Leaking(() => Leak.Profile(Workers.StartAndForget, Quick with { TimeBudget = TimeSpan.FromSeconds(1) }), Workers.Release);

        // A thread starts in well under a millisecond: the budget alone would ask for thousands of them.
        leaky.Iterations.Should().BeInRange(LeakOptions.MinBudgetIterations, 1_024, leaky.Report());
        leaky.RepeatPassIterations.Should().BeLessThanOrEqualTo(leaky.Iterations, leaky.Report());
        var act = () => leaky.Should().NotLeakThreads();
        act.Should().Throw<XunitException>(leaky.Report()).WithMessage("*started threads that kept running*", leaky.Report());
    }

    [Fact]
    public void A_file_opened_per_call_and_never_closed_fails_and_one_disposed_passes()
    {
        var (leaky, disposed) = Twins(OpenFiles.OpenAndKeep, OpenFiles.Release, OpenFiles.OpenAndDispose);

        var act = () => leaky.Should().NotLeakHandles();
        act.Should().Throw<XunitException>(leaky.Report())
            .WithMessage("Expected profile to have no steady growth in open handles, but it kept handles open at 1 per iteration, still rising at the end (* over 300 iterations; *", leaky.Report());
        disposed.Should().NotLeakHandles("each file is disposed\n{0}", disposed.Report())
            .And.NotRetainMoreThan(0.Bytes().PerIteration(), "each file is disposed\n{0}", disposed.Report());
    }

    [Fact]
    public void Native_memory_kept_per_call_fails_both_native_bounds_and_memory_freed_passes()
    {
        // 64 MB in all: 1,000 iterations, so that the growth clears the native noise floor (16 MB) at its lower bounds.
        var (leaky, freed) = Twins(NativeBuffers.AllocateAndKeep, NativeBuffers.Release, NativeBuffers.AllocateAndFree, iterations: 1_000);

        leaky.OutsideHeap!.NativeMemory.Growth.SlopeBytesPerIteration.Should().BeApproximately(NativeBuffers.Size, NativeBuffers.Size / 8, leaky.Report());
        var perIteration = () => leaky.Should().NotGrowNativeMemoryMoreThan(16.KB().PerIteration(), "because {0} frees its buffers", "the codec");
        perIteration.Should().Throw<XunitException>(leaky.Report())
            .WithMessage("Expected profile to have at most 16kB of native memory growth per iteration because the codec frees its buffers, but it grew native memory by *per iteration*still rising at the end*", leaky.Report());
        var total = () => leaky.Should().NotGrowNativeMemoryMoreThan(32.MB());
        total.Should().Throw<XunitException>(leaky.Report()).WithMessage("Expected profile to have at most 32MB of native memory growth over 1,000 iterations, but it grew *, more than the bound.*", leaky.Report());
        var heap = () => leaky.Should().NotRetainMoreThan(1.KB().PerIteration());
        heap.Should().Throw<XunitException>("native memory rising steadily beyond its floor fails every leak assertion\n{0}", leaky.Report())
            .WithMessage("*FAILED: expected no steady growth in native memory (beyond its 16MB noise floor); grew native memory by *per iteration*");
        freed.Should().NotGrowNativeMemoryMoreThan(1.KB().PerIteration(), "each buffer is freed\n{0}", freed.Report())
            .And.NotGrowNativeMemoryMoreThan(OutsideHeap.NativeNoiseFloorBytes.Bytes(), "each buffer is freed\n{0}", freed.Report());
    }

    [Fact]
    public void An_explicit_assertion_on_too_few_iterations_fails_saying_why_and_the_defaults_pass()
    {
        var brief = Leak.Profile(() => { }, iterations: 2, Quick);

        var act = () => brief.Should().NotLeakThreads();
        act.Should().Throw<XunitException>(brief.Report())
            .WithMessage("Expected profile to have no steady growth in threads (beyond the thread pool's), but it had only 3 checkpoints over 2 iterations, too few to tell steady growth from a one-off step: it needs at least 4 iterations.*", brief.Report());
        brief.Should().NotRetainMoreThan(1.MB(), "the defaults pass what they cannot decide, as a total bound is decided on any run\n{0}", brief.Report());
    }

    /// <summary>A leak's iterations, its resources released afterwards, then as many of its fixed twin.</summary>
    private static (LeakProfile Leaky, LeakProfile Fixed) Twins(Action leak, Action release, Action fix, int iterations = 300) =>
        (Leaking(() => Leak.Profile(leak, iterations, Quick), release), Leak.Profile(fix, iterations, Quick));

    // The leaked threads, files or contexts are let go however the measurement ends.
    private static LeakProfile Leaking(Func<LeakProfile> profile, Action release)
    {
        try
        {
            return profile();
        }
        finally
        {
            release();
        }
    }

    public static TheoryData<string> Busy => new(BusyWorkloads.All.Select(w => w.Name));

    /// <summary>JIT, the thread pool's workers and compiled regular expressions grow the counters once, in the warmup or in steps: no false alarm.</summary>
    [Theory]
    [MemberData(nameof(Busy))]
    public void Busy_workloads_that_do_not_leak_pass_every_counter_outside_the_heap(string name)
    {
        var work = BusyWorkloads.All.Single(w => w.Name == name).Work;
        var profile = Leak.Profile(work, iterations: name.StartsWith("thread pool", StringComparison.Ordinal) ? 1_000 : 2_000, Quick);

        var outside = profile.OutsideHeap!;
        outside.All.Should().NotContain(s => s.IsRising, profile.Report());
        // A generous heap bound: these workloads are about the counters outside the heap, which the defaults check.
        profile.Should().NotRetainMoreThan(1.KB().PerIteration(), "{0} does not leak\n{1}", name, profile.Report())
            .And.NotLeakAssemblies("{0} does not leak\n{1}", name, profile.Report())
            .And.NotLeakThreads("{0} does not leak\n{1}", name, profile.Report())
            .And.NotLeakHandles("{0} does not leak\n{1}", name, profile.Report())
            .And.NotGrowNativeMemoryMoreThan(0.Bytes().PerIteration(), "{0} does not leak\n{1}", name, profile.Report());
    }

    [Fact]
    public void The_sampling_session_s_own_threads_and_files_are_not_counted()
    {
        // Always: the EventPipe session, its reader thread and its trace file are open across the measured pass.
        var profile = Leak.Profile(BusyWorkloads.ThreadPoolBursts, iterations: 1_000, Quick with { Sampling = SamplingMode.Always });

        profile.Profiles.Should().NotBeNull(profile.Report());
        profile.Should().NotLeakThreads("the session's threads are LeakAssert's\n{0}", profile.Report())
            .And.NotLeakHandles("the session's files are LeakAssert's\n{0}", profile.Report())
            .And.NotLeakAssemblies("the session's readers load once\n{0}", profile.Report());
    }

    [Fact]
    public async Task The_thread_pool_adding_workers_is_not_counted_as_threads()
    {
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        using var gate = new ManualResetEventSlim();
        var osBefore = OsThreads();
        var countedBefore = ProcessCounters.Threads();
        var target = ThreadPool.ThreadCount + 8;
        try
        {
            // Eight more work items than workers, each blocked: under its minimum the pool adds a worker for each.
            ThreadPool.SetMinThreads(target, minIo);
            var blocked = Enumerable.Range(0, target).Select(_ => Task.Run(() => gate.Wait())).ToArray();
            SpinWait.SpinUntil(() => ThreadPool.ThreadCount >= target, TimeSpan.FromSeconds(30))
                .Should().BeTrue("the pool adds workers up to its minimum ({0} of {1})", ThreadPool.ThreadCount, target);

            // Eight OS threads more, less any of the host's own that ended meanwhile (one did once, beside a second
            // suite): still well beyond the counted figure's range below.
            OsThreads().Should().BeGreaterThanOrEqualTo(osBefore + 5, "the pool added eight workers");
            ProcessCounters.Threads().Should().BeInRange(countedBefore - 2, countedBefore + 2, "the pool's workers are the pool's to add and retire");
            gate.Set();
            await Task.WhenAll(blocked);
        }
        finally
        {
            gate.Set();
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }
    }

    private static int OsThreads()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.Threads.Count;
    }
}

/// <summary>The rule a counter outside the heap must meet to count as rising: steady growth, not a step.</summary>
public sealed class CounterRuleTests
{
    private static CounterSeries Series(params long[] values) =>
        new("assemblies", countsBytes: false, OutsideHeap.CountNoiseFloor, values.Select((v, k) => new CounterReading(k * 100, v)).ToArray());

    [Fact]
    public void A_count_that_rises_in_every_segment_is_rising() =>
        Series(10, 11, 12, 13, 14, 15, 16, 17, 18).IsRising.Should().BeTrue();

    [Fact]
    public void A_count_that_rises_slowly_but_steadily_is_rising() =>
        Series(10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18).IsRising.Should().BeTrue();

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(40)]
    public void A_one_off_step_late_in_the_run_is_not_rising(int step)
    {
        // Lazily loaded assemblies, a cache of generated code: a step, however large, then flat.
        var values = Enumerable.Range(0, 17).Select(k => 10L + (k >= 13 ? step : 0)).ToArray();

        Series(values).IsRising.Should().BeFalse();
    }

    [Fact]
    public void Two_large_steps_are_not_rising()
    {
        var series = Series(10, 10, 10, 10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 50, 50, 50);

        // The fit sets one step aside as a one-off; the count rule alone would refuse both.
        series.Growth.SetAside.Should().NotBeNull();
        series.IsRising.Should().BeFalse("the count went up in 2 checkpoints, not 4");
    }

    [Fact]
    public void Growth_under_the_noise_floor_is_not_rising() =>
        Series(10, 10, 11, 11, 11, 12, 12, 12, 12).IsRising.Should().BeFalse();

    [Fact]
    public void Threads_coming_and_going_are_not_rising() =>
        Series(10, 11, 10, 11, 12, 11, 10, 11, 10, 11, 12, 11, 10, 11, 10, 11, 10).IsRising.Should().BeFalse();

    [Fact]
    public void Too_few_checkpoints_decide_nothing()
    {
        var series = Series(10, 20, 30, 40);

        series.IsRising.Should().BeFalse();
        series.IsDecidable.Should().BeFalse();
    }
}
