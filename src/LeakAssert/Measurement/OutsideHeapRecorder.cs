namespace LeakAssert.Measurement;

/// <summary>
/// Records the counters outside the GC heap at the measured pass's checkpoints, and the assemblies and threads at
/// its baseline and its end. Everything it keeps is made before the baseline's forced GC (the arrays sized for every
/// checkpoint, the baseline's lists), so that none of it counts as the workload's retained growth; each reading,
/// right after a checkpoint's forced GC, leaves only garbage.
/// </summary>
internal sealed class OutsideHeapRecorder
{
    // Groups of new assemblies and threads kept for the report: more would be retained through the repeat pass.
    private const int MaxGroups = 8;

    private readonly int[] _iterations;
    private readonly long[] _native, _assemblies, _contexts, _threads, _handles;
    private Dictionary<(string, bool, bool, string), int> _baselineAssemblies;
    private Dictionary<string, int> _baselineThreads;
    private int _baselinePool;
    private int _count;
    private bool _nativeGiven = true, _handlesGiven = true;

    private string? _problem;

    /// <summary>Why the counters could not be read (then <see cref="Finish"/> gives null); null while they can.</summary>
    public string? Problem => _problem;

    private OutsideHeapRecorder(int checkpoints)
    {
        _iterations = new int[checkpoints];
        _native = new long[checkpoints];
        _assemblies = new long[checkpoints];
        _contexts = new long[checkpoints];
        _threads = new long[checkpoints];
        _handles = new long[checkpoints];
        _baselineAssemblies = [];
        _baselineThreads = [];
        Guarded(() =>
        {
            // A first reading of each counter also runs its one-time costs (JIT, statics) before the baseline.
            ReadInto(0, 0);
            _baselineAssemblies = AssemblyCounts();
            _baselineThreads = ThreadCounts();
            _baselinePool = ProcessCounters.PoolThreads();
        });
    }

    // A counter the OS will not give (a /proc file that cannot be read, an API that throws) costs the verdicts on the
    // counters, which then say they were not measured, never the heap's verdict.
    private void Guarded(Action read)
    {
        if (_problem is not null) return;
        try
        {
            read();
        }
        catch (Exception e)
        {
            _problem = $"the counters outside the GC heap could not be read ({e.GetType().Name}: {e.Message.Split('\n', 2)[0].TrimEnd('.', ' ', '\r')})";
        }
    }

    /// <summary>Starts recording; call before the baseline's forced GC, with room for every checkpoint of the measured pass.</summary>
    public static OutsideHeapRecorder Start(int checkpoints) => new(checkpoints);

    /// <summary>Reads every counter; call right after a checkpoint's forced GC.</summary>
    public void Record(int iteration)
    {
        if (_count == _iterations.Length) return;
        Guarded(() => ReadInto(_count++, iteration));
    }

    /// <summary>The series and what is new since the baseline; call right after the measured pass's last checkpoint.</summary>
    public OutsideHeap? Finish()
    {
        OutsideHeap? result = null;
        Guarded(() => result = Read());
        return _problem is null ? result : null;
    }

    private OutsideHeap Read()
    {
        // A figure the platform does not give is "not measured", with no readings: never a flat line of zeros.
        CounterSeries Series(string name, bool bytes, long floor, long[] values, bool given = true) =>
            new(name, bytes, floor, given ? Enumerable.Range(0, _count).Select(k => new CounterReading(_iterations[k], values[k])).ToArray() : [])
            {
                NotMeasured = given ? null : $"{ProcessCounters.Source.Platform} does not give this process's {name}",
            };

        var newAssemblies = AssemblyCounts()
            .Select(e => (e.Key, Count: e.Value - _baselineAssemblies.GetValueOrDefault(e.Key)))
            .Where(e => e.Count > 0)
            .Select(e => new AssemblyGroup(e.Key.Item1, e.Key.Item2, e.Key.Item3, e.Key.Item4, e.Count));
        // The pool's workers are left out of the thread count; so are as many of its workers' names as it added.
        var poolAdded = Math.Max(0, ProcessCounters.PoolThreads() - _baselinePool);
        var newThreads = ThreadCounts()
            .Select(e => new ThreadGroup(e.Key, e.Value - _baselineThreads.GetValueOrDefault(e.Key) - (e.Key == PoolWorkerName ? poolAdded : 0)))
            .Where(g => g.Count > 0);
        return new OutsideHeap(
            Series("native memory", true, OutsideHeap.NativeNoiseFloorBytes, _native, _nativeGiven),
            Series("assemblies", false, OutsideHeap.CountNoiseFloor, _assemblies),
            Series("load contexts", false, OutsideHeap.CountNoiseFloor, _contexts),
            Series("threads", false, OutsideHeap.CountNoiseFloor, _threads),
            Series("handles", false, OutsideHeap.CountNoiseFloor, _handles, _handlesGiven),
            MostFirst(newAssemblies, g => g.Count, g => g.Name),
            MostFirst(newThreads, g => g.Count, g => g.Name));
    }

    // The OS name .NET gives the thread pool's workers on Linux.
    private const string PoolWorkerName = ".NET TP Worker";

    private static T[] MostFirst<T>(IEnumerable<T> groups, Func<T, int> count, Func<T, string> name) =>
        groups.OrderByDescending(count).ThenBy(name, StringComparer.Ordinal).Take(MaxGroups).ToArray();

    private void ReadInto(int k, int iteration)
    {
        Sampling.Faults.BeforeCounterReading?.Invoke();
        _iterations[k] = iteration;
        var native = ProcessCounters.NativeBytes();
        var handles = ProcessCounters.Handles();
        _nativeGiven &= native is not null;
        _handlesGiven &= handles is not null;
        _native[k] = native ?? 0;
        _assemblies[k] = ProcessCounters.Assemblies();
        _contexts[k] = ProcessCounters.LoadContexts();
        _threads[k] = ProcessCounters.Threads();
        _handles[k] = handles ?? 0;
    }

    private static Dictionary<(string, bool, bool, string), int> AssemblyCounts() =>
        ProcessCounters.LoadedAssemblies()
            .GroupBy(a => (a.Name, a.IsDynamic, a.IsCollectible, a.LoadContext))
            .ToDictionary(g => g.Key, g => g.Count());

    private static Dictionary<string, int> ThreadCounts() =>
        ProcessCounters.ThreadNames().GroupBy(n => n, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}
