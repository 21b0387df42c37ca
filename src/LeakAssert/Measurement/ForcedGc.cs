using System.Runtime;

namespace LeakAssert.Measurement;

/// <summary>GC-forced snapshots, as pprof's <c>?gc=1</c>: a heap figure taken without a full collection is stale.</summary>
internal static class ForcedGc
{
    /// <summary>Full, blocking, compacting collection; pending finalizers; and again for what they released.</summary>
    public static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>The exact retained GC-heap size: what survived the last collection of <see cref="Collect"/>.</summary>
    /// <remarks>
    /// Read from the collection itself, not from the heap afterwards: another thread that allocates between the
    /// collection and the reading (in a busy test host, megabytes) would otherwise count as retained.
    /// </remarks>
    public static long RetainedBytes()
    {
        Collect();
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).PromotedBytes;
    }

    /// <summary>
    /// A baseline that has settled: objects the test host still holds from the previous test die within
    /// milliseconds, and a baseline that counted them would make the first segment look smaller. Readings are
    /// repeated 20 ms apart (up to about 200 ms) until two in a row agree within 1 kB.
    /// </summary>
    public static long SettledRetainedBytes() => Settle(stableSteps: 1, TimeSpan.FromMilliseconds(200));

    /// <summary>
    /// Waits, up to <paramref name="limit"/>, until the retained heap stays the same across three 20 ms steps. A test
    /// framework finishes reporting the tests before a leak test on its own threads (result objects, output
    /// buffers); started at once, a leak test would count that as its own growth. Three steps, not one: on a busy
    /// machine the reporting thread may simply not have run for 20 ms.
    /// </summary>
    public static void Quiesce(TimeSpan limit) => Settle(stableSteps: 3, limit);

    // Forced-GC readings 20 ms apart until stableSteps steps in a row move less than 1 kB, or the limit passes.
    private static long Settle(int stableSteps, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var previous = RetainedBytes();
        var stable = 0;
        while (stable < stableSteps && clock.Elapsed < limit)
        {
            Thread.Sleep(20);
            var current = RetainedBytes();
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

        public LatencyScope()
        {
            GCSettings.LatencyMode = GCLatencyMode.Batch;
            // A background GC already under way when the mode changes would still finish inside the window:
            // a blocking full collection waits for it to end.
            Collect();
        }

        // Once, from whichever thread comes first: a run's guard restores the mode for a workload that never returns.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            GCSettings.LatencyMode = _previous;
        }
    }
}
