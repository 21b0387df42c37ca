using System.Runtime.CompilerServices;
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
        // Only the inuse sites are printed, the workload's and other threads' alike: the churn must be in neither.
        report.Should().NotContain("Garbage.Churn", "garbage is not retained, on the pool threads either\n{0}", report);
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

public static class PoolTaskGarbage
{
    /// <summary>Each call makes 50 kB of garbage on a pool thread that the caller waits for, and keeps nothing.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Handle() => Task.Run(() => Garbage.Churn()).Wait();
}

