using System.Diagnostics;
using System.Runtime;

namespace LeakAssert.Tests;

/// <summary>
/// Never hang: a workload that does not return, a cancelled run and a call that waits for another all give the process
/// back in a known state (GC latency mode, session files, the measurement lock) with one exception that says where.
/// Each call under test runs on a thread of its own that the test joins with a generous bound, so a regression fails
/// the test instead of hanging the suite.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class HangTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static TheoryData<string> HangShapes => ["ManualResetEventSlim.Wait", "Thread.Sleep", "Task.Wait", "SemaphoreSlim.Wait", "Monitor.Wait"];

    [Theory]
    [MemberData(nameof(HangShapes))]
    public void A_sync_workload_that_hangs_times_out_naming_its_iteration_and_leaves_the_process_as_it_was(string shape)
    {
        var modeBefore = GCSettings.LatencyMode;
        var tempBefore = LeakAssertTempFolders();
        var calls = 0;
        var hang = Hang(shape);

        var (error, elapsed) = OnOwnThread(() => Leak.Profile(() => { if (++calls == 60) hang(); }, 1_000,
            new LeakOptions { Warmup = 0, Timeout = TimeSpan.FromSeconds(3) }));

        error.Should().BeOfType<TimeoutException>().Which.Message.Should().Match(
            "Leak.Profile timed out after * s (LeakOptions.Timeout is 3 s): measured iteration 60 had been running for * s; the GC latency mode, the sampling session and the measurement lock were released, and the workload may still be running on its thread (it was interrupted, which stops it only where it waits).");
        error!.InnerException.Should().BeOfType<ThreadInterruptedException>("the blocked wait was interrupted");
        elapsed.Should().BeLessThan(Bound);
        GCSettings.LatencyMode.Should().Be(modeBefore);
        LeakAssertTempFolders().Should().BeEquivalentTo(tempBefore);
        var next = Leak.Profile(() => { }, 100);
        next.Iterations.Should().Be(100, "the lock was released\n{0}", next.Report());
    }

    [Fact]
    public void A_workload_that_hangs_in_the_repeat_pass_stops_the_session_and_deletes_its_trace()
    {
        var tempBefore = LeakAssertTempFolders();
        var leak = new StaticListLeak();
        var calls = 0;
        using var gate = new ManualResetEventSlim();

        // 100 warmup + 1,000 measured iterations leak (rising: the repeat pass runs under the session); it hangs in there.
        var (error, _) = OnOwnThread(() => Leak.Profile(() => { leak.Remember(); if (++calls == 1_400) gate.Wait(); }, 1_000,
            new LeakOptions { Timeout = TimeSpan.FromSeconds(15) })); // the measured pass must end first, on a busy machine too
        StaticListLeak.Clear();

        error.Should().BeOfType<TimeoutException>().Which.Message.Should().Contain("repeat pass iteration 1,300 had been running for");
        LeakAssertTempFolders().Should().BeEquivalentTo(tempBefore, "the session's trace is deleted, not left growing");
        var next = Leak.Profile(() => { }, 100);
        next.Iterations.Should().Be(100, next.Report());
    }

    [Fact]
    public async Task An_async_workload_that_never_completes_times_out_and_is_not_waited_for()
    {
        var modeBefore = GCSettings.LatencyMode;
        var never = new TaskCompletionSource();
        var calls = 0;

        var act = () => Leak.ProfileAsync(async () => { await Task.Yield(); if (++calls == 5) await never.Task; }, 100,
            new LeakOptions { Warmup = 0, Timeout = TimeSpan.FromSeconds(3) }).WaitAsync(Bound);

        (await act.Should().ThrowAsync<TimeoutException>()).Which.Message.Should().Contain("measured iteration 5 had been running for")
            .And.NotContain("interrupted", "an async workload is let go, not interrupted");
        GCSettings.LatencyMode.Should().Be(modeBefore);
        never.Task.IsCompleted.Should().BeFalse("the workload may still be running: LeakAssert no longer waits on it");
        var next = await Leak.ProfileAsync(() => Task.CompletedTask, 100);
        next.Iterations.Should().Be(100, next.Report());
    }

    [Fact]
    public async Task Cancelling_an_async_run_throws_OperationCanceledException_with_where_it_was()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(3));

        var act = () => Leak.ProfileAsync(() => Task.Delay(Timeout.Infinite, CancellationToken.None), 10, new LeakOptions { Warmup = 0 }, cancel.Token).WaitAsync(Bound);

        var error = (await act.Should().ThrowAsync<OperationCanceledException>()).Which;
        error.Message.Should().StartWith("Leak.Profile was cancelled after").And.Contain("measured iteration 1 had been running for");
        error.CancellationToken.Should().Be(cancel.Token);
    }

    [Fact]
    public void A_nested_call_from_a_thread_the_workload_starts_fails_in_one_sentence_naming_the_holder_instead_of_deadlocking()
    {
        Exception? inner = null;

        var (error, _) = OnOwnThread(() => Leak.Profile(() =>
        {
            // UnsafeStart: the new thread does not inherit the caller's context, so the nesting guard cannot see it.
            var t = new Thread(() =>
            {
                try { Leak.Profile(() => { }, 10, new LeakOptions { Timeout = TimeSpan.FromSeconds(1) }); }
                catch (Exception e) { inner ??= e; }
            });
            t.UnsafeStart();
            t.Join();
        }, 3, new LeakOptions { Warmup = 0 }));

        error.Should().BeNull();
        inner.Should().BeOfType<TimeoutException>().Which.Message.Should().Match(
            "Leak.Profile waited * s for the measurement lock, which another Leak.Profile call (started * s ago on thread *, now at measured iteration 1) still holds: *a workload that calls Leak.Profile from a thread it starts waits on itself*");
    }

    [ThreadStatic] private static string? callerState;

    [Fact]
    public async Task A_sync_workload_runs_on_its_callers_thread_even_when_it_waited_for_another_call()
    {
        for (var round = 0; round < 5; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(k => Task.Factory.StartNew(() =>
            {
                callerState = "caller " + k;
                var caller = Environment.CurrentManagedThreadId;
                var seen = new HashSet<(int Thread, string? State)>();
                Leak.Profile(() => seen.Add((Environment.CurrentManagedThreadId, callerState)), 200, new LeakOptions { Sampling = SamplingMode.Off });
                return (Caller: caller, Expected: "caller " + k, Seen: seen);
            }, TaskCreationOptions.LongRunning)));

            foreach (var r in results)
                r.Seen.Should().Equal([(r.Caller, r.Expected)], "round {0}: every iteration ran on the caller's thread and saw its [ThreadStatic] state", round);
        }
    }

    private static Action Hang(string shape)
    {
        var gate = new ManualResetEventSlim();
        var semaphore = new SemaphoreSlim(0);
        var monitor = new object();
        return shape switch
        {
            "ManualResetEventSlim.Wait" => () => gate.Wait(),
            "Thread.Sleep" => () => Thread.Sleep(Timeout.Infinite),
            "Task.Wait" => () => Task.Delay(Timeout.Infinite).Wait(),
            "SemaphoreSlim.Wait" => () => semaphore.Wait(),
            _ => () => { lock (monitor) Monitor.Wait(monitor); },
        };
    }

    // The call on a thread of its own, joined with a bound: what it threw, and how long it took.
    private static (Exception? Error, TimeSpan Elapsed) OnOwnThread(Action call)
    {
        Exception? error = null;
        var clock = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            try { call(); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true };
        thread.Start();
        thread.Join(Bound).Should().BeTrue("the call must return within {0}, not hang", Bound);
        return (error, clock.Elapsed);
    }

    private static string[] LeakAssertTempFolders() => Directory.GetDirectories(Path.GetTempPath(), Sampling.SamplingSession.FolderPrefix + "*");
}
