using System.ComponentModel;
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

    // An async lambda fits Action too, as async void: Leak.Profile would return at its first await and measure only
    // the part before it. These overloads fit it better (an async lambda's return type is Task), so the compiler picks
    // one and refuses it with the sentence below; a lambda or method group that returns nothing still binds to Action.
    private const string AsyncToProfile = "Leak.Profile runs a sync workload and would measure an async one only up to its first await; use await Leak.ProfileAsync(...) for an async workload.";

    /// <summary>Refused at compile time: an async workload goes to <see cref="ProfileAsync(Func{Task}, int, LeakOptions?, CancellationToken)"/>.</summary>
    [Obsolete(AsyncToProfile, error: true)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(1)]
    public static LeakProfile Profile(Func<Task> workload, int iterations, LeakOptions? options = null) => throw new NotSupportedException(AsyncToProfile);

    /// <summary>Refused at compile time: an async workload goes to <see cref="ProfileAsync(Func{Task}, LeakOptions?, CancellationToken)"/>.</summary>
    [Obsolete(AsyncToProfile, error: true)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    [OverloadResolutionPriority(1)]
    public static LeakProfile Profile(Func<Task> workload, LeakOptions? options = null) => throw new NotSupportedException(AsyncToProfile);

    /// <summary>Refused at compile time: an async workload goes to <see cref="ProfileAsync(Func{ValueTask}, int, LeakOptions?, CancellationToken)"/>.</summary>
    [Obsolete(AsyncToProfile, error: true)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static LeakProfile Profile(Func<ValueTask> workload, int iterations, LeakOptions? options = null) => throw new NotSupportedException(AsyncToProfile);

    /// <summary>Refused at compile time: an async workload goes to <see cref="ProfileAsync(Func{ValueTask}, LeakOptions?, CancellationToken)"/>.</summary>
    [Obsolete(AsyncToProfile, error: true)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static LeakProfile Profile(Func<ValueTask> workload, LeakOptions? options = null) => throw new NotSupportedException(AsyncToProfile);
}
