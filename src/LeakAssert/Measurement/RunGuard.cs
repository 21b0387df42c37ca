using System.Diagnostics;
using System.Globalization;

namespace LeakAssert.Measurement;

/// <summary>
/// Gives the process back in a known state when a run does not end: on <see cref="LeakOptions.Timeout"/> or on
/// cancellation, a watchdog thread runs the run's cleanups itself (GC latency mode, sampling session and its files,
/// the measurement lock), interrupts the caller's thread when it is blocked in a sync workload, and cancels the wait
/// for an async one. The caller then throws one exception that says which iteration was running and for how long.
/// A workload that never blocks (a busy loop) cannot be stopped from outside: its thread runs on, but nothing it holds
/// is LeakAssert's any more.
/// </summary>
internal sealed class RunGuard : IDisposable
{
    private const int Running = 0, Completed = 1, Fired = 2;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private readonly TimeSpan _timeout;
    private readonly CancellationToken _cancellation;
    private readonly Progress _progress;
    private readonly Thread _caller = Thread.CurrentThread;
    private readonly CancellationTokenSource _giveUp = new();
    private readonly ManualResetEventSlim _ended = new();
    private readonly ManualResetEventSlim _fireDone = new();
    private readonly List<Action> _cleanups = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Thread? _watchdog;
    private int _state;
    private bool _interruptCaller;
    private string? _failure;
    private bool _cancelled;

    public RunGuard(TimeSpan timeout, CancellationToken cancellation, Progress progress)
    {
        _timeout = timeout;
        _cancellation = cancellation;
        _progress = progress;
        if (timeout == Timeout.InfiniteTimeSpan && !cancellation.CanBeCanceled) return;
        // A thread of its own, not the pool: a workload that blocks every pool thread must not block its own watchdog.
        _watchdog = new Thread(Watch) { IsBackground = true, Name = "LeakAssert run guard" };
        _watchdog.Start();
    }

    /// <summary>Cancelled when the guard gives up on the run: awaits of async iterations stop waiting.</summary>
    public CancellationToken GiveUp => _giveUp.Token;

    /// <summary>Whether the guard gave up on the run.</summary>
    public bool HasFired => Volatile.Read(ref _state) == Fired;

    /// <summary>A cleanup the watchdog runs if it gives up (the caller runs it too, as usual; each must be idempotent).</summary>
    public void OnGiveUp(Action cleanup)
    {
        lock (_cleanups) _cleanups.Add(cleanup);
    }

    /// <summary>While set, a give-up interrupts the caller's thread (it is inside a sync workload that may be blocked).</summary>
    public void InterruptCallerWhileRunning(bool value) => Volatile.Write(ref _interruptCaller, value);

    /// <summary>Throws the run's timeout or cancellation when the guard has given up on it.</summary>
    public void ThrowIfFired(Exception? inner = null)
    {
        if (!HasFired) return;
        throw Failure(inner);
    }

    /// <summary>Marks the run finished; false when the guard gave up on it first.</summary>
    public bool TryComplete()
    {
        var won = Interlocked.CompareExchange(ref _state, Completed, Running) == Running;
        _ended.Set();
        return won;
    }

    /// <summary>The exception to throw for a run the guard gave up on, with what the workload threw meanwhile as inner.</summary>
    public Exception Failure(Exception? inner)
    {
        // The watchdog may still be interrupting this thread: wait for it, then take any interrupt still pending, so
        // that it cannot surface later in the caller's code.
        while (true)
        {
            try
            {
                _fireDone.Wait();
                Thread.Sleep(0);
                break;
            }
            catch (ThreadInterruptedException) { /* the watchdog's own interrupt: taken */ }
        }
        var message = _failure!;
        return _cancelled ? new OperationCanceledException(message, inner, _cancellation) : new TimeoutException(message, inner);
    }

    private void Watch()
    {
        var lastIteration = -1;
        var lastPhase = "";
        var sinceChange = TimeSpan.Zero;
        while (!_ended.Wait(Poll))
        {
            var (phase, iteration) = (_progress.Phase, _progress.Iteration);
            if (iteration != lastIteration || !ReferenceEquals(phase, lastPhase))
            {
                (lastPhase, lastIteration, sinceChange) = (phase, iteration, _clock.Elapsed);
            }
            var cancelled = _cancellation.IsCancellationRequested;
            if (!cancelled && (_timeout == Timeout.InfiniteTimeSpan || _clock.Elapsed < _timeout)) continue;
            if (Interlocked.CompareExchange(ref _state, Fired, Running) != Running) return;
            _cancelled = cancelled;
            var running = (_clock.Elapsed - sinceChange).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            var after = _clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            var why = cancelled
                ? $"Leak.Profile was cancelled after {after} s"
                : $"Leak.Profile timed out after {after} s (LeakOptions.Timeout is {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)";
            var where = lastIteration > 0 ? $"{lastPhase} iteration {lastIteration:N0} had been running for {running} s" : "no iteration had started";
            var blocked = Volatile.Read(ref _interruptCaller);
            _failure = string.Create(CultureInfo.InvariantCulture,
                $"{why}: {where}; the GC latency mode, the sampling session and the measurement lock were released, and the workload may still be running on its thread{(blocked ? " (it was interrupted, which stops it only where it waits)" : "")}.");
            RunCleanups();
            if (blocked) _caller.Interrupt();
            _fireDone.Set();
            // Last, and on the pool: a continuation of the awaited iteration must not run on this thread, which the
            // caller's thread may then wait for.
            _ = _giveUp.CancelAsync();
            return;
        }
    }

    private void RunCleanups()
    {
        Action[] cleanups;
        lock (_cleanups) cleanups = [.. _cleanups];
        // Last registered first, as the caller's own using blocks would unwind.
        foreach (var cleanup in cleanups.Reverse())
        {
            try { cleanup(); }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // A cleanup that fails here is retried by the caller's own; the exception that matters is the timeout.
            }
        }
    }

    public void Dispose()
    {
        TryComplete();
        if (_watchdog is not null && _watchdog != Thread.CurrentThread) _watchdog.Join();
        // The token source and events are left to the GC: a give-up's cancellation may still be running callbacks on
        // the pool, and neither holds an OS handle unless one is asked for.
    }
}
