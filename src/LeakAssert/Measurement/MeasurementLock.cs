using System.Diagnostics;
using System.Globalization;

namespace LeakAssert.Measurement;

/// <summary>
/// One measurement at a time in a process: the GC heap and the EventPipe session are process-wide, so two at once
/// would see each other's objects. Waiting has a bound, and the error names what holds the lock; the holder's
/// release is idempotent, so a run's guard may release it for a workload that never returns.
/// </summary>
internal static class MeasurementLock
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Holder? holder;

    /// <summary>Takes the lock on this thread, waiting at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">Another measurement held it all that time; the message names it.</exception>
    public static Ticket Enter(TimeSpan timeout, CancellationToken cancellation, Progress progress)
    {
        var clock = Stopwatch.StartNew();
        if (!Gate.Wait(timeout, cancellation)) throw Busy(clock.Elapsed);
        return Hold(progress);
    }

    /// <summary>Takes the lock, waiting asynchronously at most <paramref name="timeout"/>.</summary>
    public static async ValueTask<Ticket> EnterAsync(TimeSpan timeout, CancellationToken cancellation, Progress progress)
    {
        var clock = Stopwatch.StartNew();
        if (!await Gate.WaitAsync(timeout, cancellation).ConfigureAwait(false)) throw Busy(clock.Elapsed);
        return Hold(progress);
    }

    private static Ticket Hold(Progress progress)
    {
        var ticket = new Ticket();
        Volatile.Write(ref holder, new Holder(Environment.CurrentManagedThreadId, Thread.CurrentThread.Name, Stopwatch.StartNew(), progress, ticket));
        return ticket;
    }

    private static TimeoutException Busy(TimeSpan waited)
    {
        var h = Volatile.Read(ref holder);
        var who = h is null
            ? "another Leak.Profile call"
            : string.Create(CultureInfo.InvariantCulture,
                $"another Leak.Profile call (started {h.Clock.Elapsed.TotalSeconds:0.0} s ago on thread {h.ThreadId}{(h.ThreadName is { } n ? $" '{n}'" : "")}, now at {h.Progress.Phase} iteration {h.Progress.Iteration:N0})");
        return new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"Leak.Profile waited {waited.TotalSeconds:0.0} s for the measurement lock, which {who} still holds: LeakAssert measures one workload at a time in a process, and a workload that calls Leak.Profile from a thread it starts waits on itself (profile the inner workload on its own)."));
    }

    private sealed record Holder(int ThreadId, string? ThreadName, Stopwatch Clock, Progress Progress, Ticket Ticket);

    /// <summary>The right to release the lock once.</summary>
    internal sealed class Ticket : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            if (Volatile.Read(ref holder) is { } h && h.Ticket == this) Interlocked.CompareExchange(ref holder, null, h);
            Gate.Release();
        }
    }
}
