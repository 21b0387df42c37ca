namespace LeakAssert.Measurement;

/// <summary>
/// What a run measured outside the GC heap, at the measured pass's checkpoints, each right after the heap's forced
/// GC: native (non-GC) private memory, loaded assemblies, live assembly load contexts, OS threads beyond the thread
/// pool's, and open handles; and what was new at the end: the assemblies by name and the threads by OS name.
/// </summary>
public sealed class OutsideHeap
{
    /// <summary>
    /// Native memory a workload that does not leak still adds: the JIT's code and the high-water marks of the native
    /// allocator's arenas grow by steps of up to a few MB, for a while. Compiling regular expressions in a fresh
    /// process grew it by up to 6.9 MB over 2,000 iterations here, 6.2 MB at the 99% lower bound
    /// (docs/BENCHMARKS-OUTSIDE-HEAP.md). Steady growth must clear this floor at the lower bounds (half of it over the
    /// second half), as heap growth must clear <see cref="GrowthFit.NoiseFloorBytes"/>.
    /// </summary>
    public const long NativeNoiseFloorBytes = 16L << 20;

    /// <summary>Assemblies, load contexts, threads or handles a run may gain without it counting as steady growth.</summary>
    public const long CountNoiseFloor = 4;

    internal OutsideHeap(CounterSeries nativeMemory, CounterSeries assemblies, CounterSeries loadContexts, CounterSeries threads,
        CounterSeries handles, IReadOnlyList<AssemblyGroup> newAssemblies, IReadOnlyList<ThreadGroup> newThreads)
    {
        NativeMemory = nativeMemory;
        Assemblies = assemblies;
        LoadContexts = loadContexts;
        Threads = threads;
        Handles = handles;
        NewAssemblies = newAssemblies;
        NewThreads = newThreads;
    }

    /// <summary>Private memory outside the GC heap, in bytes: private pages less the GC's committed memory.</summary>
    public CounterSeries NativeMemory { get; }

    /// <summary>Assemblies loaded in every load context (AppDomain.GetAssemblies).</summary>
    public CounterSeries Assemblies { get; }

    /// <summary>Assembly load contexts alive (AssemblyLoadContext.All): a collectible one that cannot unload stays.</summary>
    public CounterSeries LoadContexts { get; }

    /// <summary>OS threads of the process less the thread pool's, whose worker count is the pool's to grow and shrink.</summary>
    public CounterSeries Threads { get; }

    /// <summary>Open handles: file descriptors on Linux and macOS, the handle count on Windows (the thread pool's own allowed for).</summary>
    public CounterSeries Handles { get; }

    /// <summary>Whether a count (assemblies, load contexts, threads, handles) rose steadily: each iteration run adds to it.</summary>
    internal bool CountsRise => Assemblies.IsRising || LoadContexts.IsRising || Threads.IsRising || Handles.IsRising;

    /// <summary>The five counters, in the report's order.</summary>
    public IReadOnlyList<CounterSeries> All => [NativeMemory, Assemblies, LoadContexts, Threads, Handles];

    /// <summary>Assemblies loaded between the baseline and the end of the measured pass, grouped, most first.</summary>
    public IReadOnlyList<AssemblyGroup> NewAssemblies { get; }

    /// <summary>
    /// Threads started between the baseline and the end of the measured pass and still running, grouped by OS name
    /// (Linux only; the thread pool's added workers left out), most first.
    /// </summary>
    public IReadOnlyList<ThreadGroup> NewThreads { get; }
}

/// <summary>
/// One counter at each measured checkpoint, with the same fit as the retained heap (<see cref="GrowthFit"/>, in
/// this counter's unit: bytes for native memory, a count otherwise), judged against a noise floor of its own.
/// </summary>
public sealed class CounterSeries
{
    /// <summary>Checkpoints in which the counter must go up, half of them in the second half, to count as rising steadily.</summary>
    internal const int MinRisingSegments = 4;

    internal CounterSeries(string name, bool countsBytes, long noiseFloor, IReadOnlyList<CounterReading> readings)
    {
        Name = name;
        CountsBytes = countsBytes;
        Readings = readings;
        Growth = GrowthFit.Of(readings.Select(r => new Checkpoint(r.Iteration, r.Value)).ToArray(), noiseFloor);
    }

    /// <summary>Why this platform does not measure the counter ("macOS does not give this process's handles"); null when it does.</summary>
    public string? NotMeasured { get; init; }

    /// <summary>Whether the platform measured the counter; one it did not has no readings and never reads as flat.</summary>
    public bool IsMeasured => NotMeasured is null;

    /// <summary>What is counted, as the report names it: "native memory", "assemblies", ...</summary>
    public string Name { get; }

    /// <summary>True for a size in bytes, false for a count.</summary>
    public bool CountsBytes { get; }

    /// <summary>The value at each measured checkpoint, from the baseline (iteration 0).</summary>
    public IReadOnlyList<CounterReading> Readings { get; }

    /// <summary>The least-squares fit over the readings, as the heap's; its "bytes" are this counter's unit.</summary>
    public GrowthFit Growth { get; }

    /// <summary>The change from the baseline to the last measured checkpoint.</summary>
    public long Total => Readings.Count == 0 ? 0 : Readings[^1].Value - Readings[0].Value;

    /// <summary>
    /// Whether the counter rose steadily: still rising at the end with 99% confidence beyond its noise floor, as a
    /// leak of the heap must, and up in at least four checkpoints, two of them in the second half. JIT code, caches
    /// and lazily loaded assemblies grow in a step or two and stop; a leak keeps growing.
    /// </summary>
    public bool IsRising => RisesSteadilyAbove(0);

    /// <summary>Whether there are checkpoints enough to fit a second half.</summary>
    internal bool IsDecidable => Readings.Count >= GrowthFit.MinCheckpointsForTrend;

    internal bool RisesSteadilyAbove(double perIteration)
    {
        if (!IsDecidable || !Growth.ExceedsWhileRising(perIteration)) return false;
        var half = Readings.Count / 2;
        int rises = 0, tailRises = 0;
        for (var k = 1; k < Readings.Count; k++)
        {
            if (Readings[k].Value <= Readings[k - 1].Value) continue;
            rises++;
            if (k > half) tailRises++;
        }
        return rises >= MinRisingSegments && tailRises >= MinRisingSegments / 2;
    }
}

/// <summary>A counter's value after <see cref="Iteration"/> measured iterations.</summary>
public readonly record struct CounterReading(int Iteration, long Value);

/// <summary>Assemblies of one name, kind and load context; <see cref="Count"/> of them (new ones, in <see cref="OutsideHeap.NewAssemblies"/>).</summary>
public sealed record AssemblyGroup(string Name, bool IsDynamic, bool IsCollectible, string LoadContext, int Count);

/// <summary>Threads of one OS name; <see cref="Count"/> of them (new ones, in <see cref="OutsideHeap.NewThreads"/>).</summary>
public sealed record ThreadGroup(string Name, int Count);
