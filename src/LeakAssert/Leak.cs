using System.Runtime.CompilerServices;
using LeakAssert.Measurement;
using LeakAssert.Verdicts;

namespace LeakAssert;

/// <summary>
/// Runs a workload many times and measures what it retains. Leak tests measure a process-wide heap: run them where
/// no other test executes at the same time (the [LeakTest] attributes do that for you). A sync workload runs on the
/// caller's thread; every call is bounded by <see cref="LeakOptions.Timeout"/>, and the async ones also by their
/// cancellation token: either way the process gets its GC mode, session files and lock back.
/// </summary>
public static class Leak
{
    /// <summary>Runs <paramref name="workload"/> <paramref name="iterations"/> times (after a warmup) and profiles what it retains.</summary>
    /// <exception cref="ArgumentException">An argument is out of range; the message names it and the allowed range.</exception>
    public static LeakProfile Profile(Action workload, int iterations, LeakOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        FailureRecorder.NoteMeasurement();
        var o = LeakOptions.Validated(options, iterations);
        return Runner.Run(Workload.Of(workload), iterations, o);
    }

    /// <summary>
    /// Runs <paramref name="workload"/> as many times as fit in <see cref="LeakOptions.TimeBudget"/> (timed during the
    /// warmup) and profiles what it retains.
    /// </summary>
    public static LeakProfile Profile(Action workload, LeakOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        FailureRecorder.NoteMeasurement();
        var o = LeakOptions.Validated(options, null);
        return Runner.Run(Workload.Of(workload), null, o);
    }

    /// <summary>Runs an async workload as many times as fit in <see cref="LeakOptions.TimeBudget"/>, one after another.</summary>
    [OverloadResolutionPriority(1)]
    public static Task<LeakProfile> ProfileAsync(Func<Task> workload, LeakOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        FailureRecorder.NoteMeasurement();
        var o = LeakOptions.Validated(options, null);
        return Runner.RunAsync(Workload.Of(workload), null, o, cancellationToken).AsTask();
    }

    /// <summary>Runs an async workload as many times as fit in <see cref="LeakOptions.TimeBudget"/>, one after another.</summary>
    public static Task<LeakProfile> ProfileAsync(Func<ValueTask> workload, LeakOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        FailureRecorder.NoteMeasurement();
        var o = LeakOptions.Validated(options, null);
        return Runner.RunAsync(Workload.Of(workload), null, o, cancellationToken).AsTask();
    }

    /// <summary>Runs an async workload <paramref name="iterations"/> times, one after another, and profiles what it retains.</summary>
    /// <remarks>An <c>async () =&gt; ...</c> lambda would fit both async overloads; it binds to this one.</remarks>
    [OverloadResolutionPriority(1)]
    public static Task<LeakProfile> ProfileAsync(Func<Task> workload, int iterations, LeakOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        FailureRecorder.NoteMeasurement();
        var o = LeakOptions.Validated(options, iterations);
        return Runner.RunAsync(Workload.Of(workload), iterations, o, cancellationToken).AsTask();
    }

    /// <summary>Runs an async workload <paramref name="iterations"/> times, one after another, and profiles what it retains.</summary>
    public static Task<LeakProfile> ProfileAsync(Func<ValueTask> workload, int iterations, LeakOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        FailureRecorder.NoteMeasurement();
        var o = LeakOptions.Validated(options, iterations);
        return Runner.RunAsync(Workload.Of(workload), iterations, o, cancellationToken).AsTask();
    }
}
