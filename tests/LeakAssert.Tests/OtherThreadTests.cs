using System.Runtime.CompilerServices;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

namespace LeakAssert.Tests;

/// <summary>
/// Growth retained by work that the workload hands to other threads (a pool task it waits for, a thread it starts
/// and joins) is attributed to the code that thread ran, not left out as another thread's.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class OtherThreadTests
{
    [Fact]
    public void A_leak_through_Task_Run_is_attributed_to_the_task_s_lambda()
    {
        var profile = OnOwnThread(() => Leak.Profile(PoolTaskLeak.Handle, iterations: 2_000, new LeakOptions { Sampling = SamplingMode.Always }));
        PoolTaskLeak.Sink.Clear();
        var report = profile.Report();

        report.Should().NotContain("nothing to attribute", report);
        Top.Of(profile.Profiles!.Diff, SampleValue.InuseSpace).Rows[0].Function.Should().Contain("PoolTaskLeak+<>c.<Handle>b__", report);
        report.Should().Contain("LeakAssert.Tests.PoolTaskLeak+<>c.<Handle>b__", report);
    }

    [Fact]
    public void A_leak_through_a_started_and_joined_thread_is_attributed_to_the_thread_s_method()
    {
        var profile = Leak.Profile(StartedThreadLeak.Handle, iterations: 2_000);
        StartedThreadLeak.Sink.Clear();
        var report = profile.Report();

        report.Should().NotContain("nothing to attribute", report);
        report.Should().Contain("LeakAssert.Tests.StartedThreadLeak.Remember (OtherThreadTests.cs:", report);
    }

    [Fact]
    public void Garbage_made_by_pool_tasks_is_seen_as_churn_and_retains_nothing()
    {
        var profile = OnOwnThread(() => Leak.Profile(PoolTaskGarbage.Handle, iterations: 2_000, new LeakOptions { Sampling = SamplingMode.Always }));
        var report = profile.Report();

        var diff = profile.Profiles!.Diff;
        var churn = diff.Samples.Where(s => s.Stack.Any(f => f.Function == "LeakAssert.Tests.Garbage.Churn")).ToList();
        churn.Sum(s => s.AllocSamples).Should().BeGreaterThan(100, "100 MB of churn on pool threads leaves about 1,000 samples\n{0}", report);
        churn.Sum(s => s.InuseSpace).Should().BeInRange(-300_000, 300_000, "the churn does not survive\n{0}", report);
        // Only the inuse sites are printed, the workload's and other threads' alike. A pool task still running at a
        // checkpoint holds its current array, and a sample of it shows once as a site with inuse space (-100 kB once,
        // beside a second suite): only a diff with no churn alive at either end must leave the churn out entirely.
        if (churn.All(s => s.InuseSpace == 0))
            report.Should().NotContain("Garbage.Churn", "garbage is not retained, on the pool threads either\n{0}", report);
    }

    [Fact]
    public void A_leak_through_a_queued_work_item_is_shown_as_other_threads_growth_with_its_site()
    {
        var profile = Leak.Profile(WorkItemLeak.Handle, iterations: 2_000);
        WorkItemLeak.Sink.Clear();
        var report = profile.Report();

        report.Should().Contain("Retained by allocations on other threads", report);
        report.Should().Contain("LeakAssert.Tests.WorkItemLeak.Remember (OtherThreadTests.cs:", report);
    }

    // xunit runs a test on a pool thread, whose Wait runs a task still in the thread's local queue inline. A console
    // app's main thread, or a test framework's own thread, cannot: the task then always runs on another pool thread.
    private static T OnOwnThread<T>(Func<T> run)
    {
        T? result = default;
        var thread = new Thread(() => result = run());
        thread.Start();
        thread.Join();
        return result!;
    }
}

public static class PoolTaskLeak
{
    public static readonly List<byte[]> Sink = new(capacity: 200_000);

    /// <summary>Each call keeps 1 kB, allocated by a pool thread that the caller waits for.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Handle() => Task.Run(() => { lock (Sink) Sink.Add(new byte[1000]); }).Wait();
}

public static class StartedThreadLeak
{
    public static readonly List<byte[]> Sink = new(capacity: 200_000);

    /// <summary>Each call keeps 1 kB, allocated by a thread the caller starts and joins.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Handle()
    {
        var thread = new Thread(Remember);
        thread.Start();
        thread.Join();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Remember()
    {
        lock (Sink) Sink.Add(new byte[1000]);
    }
}

public static class WorkItemLeak
{
    public static readonly List<byte[]> Sink = new(capacity: 200_000);

    /// <summary>Each call keeps 1 kB, allocated by a pool work item that the caller waits for.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Handle()
    {
        using var done = new ManualResetEventSlim();
        ThreadPool.QueueUserWorkItem(Remember, done, preferLocal: false);
        done.Wait();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Remember(ManualResetEventSlim done)
    {
        lock (Sink) Sink.Add(new byte[1000]);
        done.Set();
    }
}

public static class PoolTaskGarbage
{
    /// <summary>Each call makes 50 kB of garbage on a pool thread that the caller waits for, and keeps nothing.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Handle() => Task.Run(() => Garbage.Churn()).Wait();
}

/// <summary>The report's part on other threads, from fixed data: what they retained, and what was followed back.</summary>
public sealed class OtherThreadReportTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static readonly Frame Remember = new("Shop.Audit.Remember", "Shop", "/src/Shop/Audit.cs", 9);
    private static readonly Frame Dispatch = new("System.Threading.ThreadPoolWorkQueue.Dispatch", "System.Private.CoreLib", null, 0);
    private static readonly Frame Forget = new("Host.Cache.Forget", "Host", null, 0);

    private static LeakProfile Profile(HeapProfile? otherThreads, int linked)
    {
        var diff = new HeapProfile("diff", [], At);
        var checkpoints = Enumerable.Range(0, 5).Select(k => new Checkpoint(k * 500, 4_000_000 + k * 500L * 1_024)).ToArray();
        return new LeakProfile(new MeasuredRun
        {
            Iterations = 2_000, Warmup = 200, Checkpoints = checkpoints,
            Profiles = new ProfileSet(diff, diff, diff, TotalSamples: 1_234, ForeignSamples: 30) { LinkedSamples = linked, OtherThreads = otherThreads },
        });
    }

    [Fact]
    public void Growth_on_threads_not_linked_to_the_workload_is_shown_with_whole_stacks_and_only_where_it_grew()
    {
        var others = new HeapProfile("diff",
        [
            new ProfileSample([Remember, Dispatch], "System.Byte[]", 20, 2_048_000, 20, 2_048_000, 20, 20, 20 * 1.0e10),
            new ProfileSample([Forget], "System.String", 0, 0, -1, -102_400, 0, 1, 1.0e10),
        ], At);

        var report = Profile(others, linked: 1_100).Report();

        report.Should().Contain("Retained by allocations on other threads that LeakAssert could not link to the workload (work it queued without a task or thread, such as a work item or a timer, or the test host): 1.95MB ± 855.99kB (95%) from 20 samples, not in the profile above; the largest stacks, whole:\n", report);
        report.Should().Contain("    1.95MB   Shop.Audit.Remember (Audit.cs:9)\n             System.Threading.ThreadPoolWorkQueue.Dispatch\n", report);
        report.Should().NotContain("Host.Cache.Forget", "what shrank on other threads is not growth to explain\n{0}", report);
        report.Should().Contain("1,234 samples in the trace; 1,100 of them, taken in tasks or threads the workload started, were followed back to it; 30 from other threads or the test host were left out.", report);
    }

    [Fact]
    public void Without_growth_on_other_threads_there_is_no_section_for_them()
    {
        var shrank = new HeapProfile("diff", [new ProfileSample([Forget], "System.String", 0, 0, -1, -102_400, 0, 1, 1.0e10)], At);

        Profile(shrank, linked: 0).Report().Should().NotContain("Retained by allocations on other threads").And.Contain("1,234 samples in the trace; 30 from other threads");
        Profile(null, linked: 0).Report().Should().NotContain("Retained by allocations on other threads");
    }
}
