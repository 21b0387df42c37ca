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

    /// <summary>The exact retained GC-heap size, after <see cref="Collect"/>.</summary>
    public static long RetainedBytes()
    {
        Collect();
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>
    /// Keeps background (concurrent) GCs out of the measured window: they break the liveness replay of sampled
    /// objects (RUNTIME-FACTS 3). The previous latency mode comes back on dispose, also when the workload throws.
    /// </summary>
    public static IDisposable NoBackgroundGc() => new LatencyScope();

    private sealed class LatencyScope : IDisposable
    {
        private readonly GCLatencyMode _previous = GCSettings.LatencyMode;
        private bool _disposed;

        public LatencyScope()
        {
            GCSettings.LatencyMode = GCLatencyMode.Batch;
            // A background GC already under way when the mode changes would still finish inside the window:
            // a blocking full collection waits for it to end.
            Collect();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            GCSettings.LatencyMode = _previous;
        }
    }
}
