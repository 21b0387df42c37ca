using System.Runtime;

namespace LeakAssert.Measurement;

/// <summary>GC-forced snapshots, as pprof's <c>?gc=1</c>: a heap figure taken without a full collection is stale.</summary>
internal static class ForcedGc
{
    /// <summary>
    /// A full, blocking collection, after the finalizers that earlier collections queued; then, only when this one
    /// queued finalizers beyond those that come back at every collection, those finalizers and the collection again
    /// for what they released. Not compacting unless asked: compaction moves objects but does not change which are
    /// alive, and on a large heap it costs several times the marking (the promoted bytes are exact either way).
    /// </summary>
    public static void Collect(bool compacting = false)
    {
        // Objects an ephemeral collection found unreachable wait for their finalizers and are still alive until they run.
        GC.WaitForPendingFinalizers();
        Full(compacting);
        if (FinalizationPending() <= Volatile.Read(ref _comebacks)) return;
        GC.WaitForPendingFinalizers();
        Full(compacting);
        // Right after the finalizers ran, what is queued again is what comes back every time: the runtime's gen2
        // callbacks (array-pool trimming among them) register for finalization anew at each full collection, so
        // the count is never 0 and alone cannot say that a workload's finalizable objects died.
        Volatile.Write(ref _comebacks, FinalizationPending());
    }

    /// <summary>
    /// Gives back, in one aggressive collection, the memory the GC freed but still holds committed, when that is more
    /// than <paramref name="limit"/>; says whether it ran. A non-compacting collection resets freed pages at once but
    /// decommits them a little at every later collection, so the native-memory counter (private pages less the GC's
    /// commit) would rise by all of it inside the window: 62 MB here once, in a leak test that ran after tests that
    /// had let go of 114 MB. Without that much slack nothing runs, so a large heap keeps its cheap checkpoints.
    /// </summary>
    public static bool ReturnFreeMemory(long limit)
    {
        var last = GC.GetGCMemoryInfo(GCKind.Any);
        if (last.TotalCommittedBytes - last.HeapSizeBytes <= limit) return false;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return true;
    }

    // -1 until the first second collection has counted them.
    private static long _comebacks = -1;

    private static void Full(bool compacting) => GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting);

    private static long FinalizationPending() => GC.GetGCMemoryInfo(GCKind.FullBlocking).FinalizationPendingCount;

    /// <summary>The exact retained GC-heap size: what survived the last collection of <see cref="Collect"/>.</summary>
    /// <remarks>
    /// Read from the collection itself, not from the heap afterwards: another thread that allocates between the
    /// collection and the reading (in a busy test host, megabytes) would otherwise count as retained.
    /// </remarks>
    public static long RetainedBytes(bool compacting = false)
    {
        Collect(compacting);
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).PromotedBytes;
    }

    /// <summary>
    /// A baseline that has settled: objects the test host still holds from the previous test die within
    /// milliseconds, and a baseline that counted them would make the first segment look smaller. Readings are
    /// repeated 20 ms apart (up to about 200 ms) until two in a row agree within 1 kB. A heap that holds
    /// <paramref name="readOnceFrom"/> bytes or more is read once, after the same 20 ms for the host's threads: there
    /// every reading is a full collection of all of it, and objects that die later only lower the growth.
    /// </summary>
    public static long SettledRetainedBytes(bool compacting = false, long readOnceFrom = long.MaxValue)
    {
        long? first = null;
        // The heap's size before any collection is at least what is alive: below the mark, the live heap is too.
        if (GC.GetTotalMemory(forceFullCollection: false) >= readOnceFrom)
        {
            Thread.Sleep(Step);
            first = RetainedBytes(compacting);
            if (first >= readOnceFrom) return first.Value;
        }
        return Settle(stableSteps: 1, TimeSpan.FromMilliseconds(200), compacting, first);
    }

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Waits, up to <paramref name="limit"/>, until the retained heap stays the same across three 20 ms steps. A test
    /// framework finishes reporting the tests before a leak test on its own threads (result objects, output
    /// buffers); started at once, a leak test would count that as its own growth. Three steps, not one: on a busy
    /// machine the reporting thread may simply not have run for 20 ms.
    /// </summary>
    public static void Quiesce(TimeSpan limit) => Settle(stableSteps: 3, limit, compacting: false);

    // Forced-GC readings 20 ms apart until stableSteps steps in a row move less than 1 kB, or the limit passes.
    private static long Settle(int stableSteps, TimeSpan limit, bool compacting, long? first = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var previous = first ?? RetainedBytes(compacting);
        var stable = 0;
        while (stable < stableSteps && clock.Elapsed < limit)
        {
            Thread.Sleep(Step);
            var current = RetainedBytes(compacting);
            stable = Math.Abs(current - previous) <= 1024 ? stable + 1 : 0;
            previous = current;
        }
        return previous;
    }

    /// <summary>
    /// Keeps background (concurrent) GCs out of the measured window: they break the liveness replay of sampled
    /// objects (RUNTIME-FACTS 3). The previous latency mode comes back on dispose, also when the workload throws.
    /// </summary>
    public static IDisposable NoBackgroundGc() => new LatencyScope();

    private sealed class LatencyScope : IDisposable
    {
        private readonly GCLatencyMode _previous = GCSettings.LatencyMode;
        private int _disposed;

        // A background GC already under way when the mode changes still finishes: the next blocking full collection
        // (the settled baseline's, or the one before a session starts) waits for it to end.
        public LatencyScope() => GCSettings.LatencyMode = GCLatencyMode.Batch;

        // Once, from whichever thread comes first: a run's guard restores the mode for a workload that never returns.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            GCSettings.LatencyMode = _previous;
        }
    }
}
