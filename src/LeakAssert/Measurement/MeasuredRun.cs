using LeakAssert.Profiles;
using LeakAssert.Snapshots;

namespace LeakAssert.Measurement;

/// <summary>Everything one profiled run measured, as the runner hands it to <see cref="LeakProfile"/>.</summary>
internal sealed record MeasuredRun
{
    /// <summary>Measured iterations (warmup and repeat-pass iterations excluded).</summary>
    public required int Iterations { get; init; }

    /// <summary>Unmeasured iterations run first.</summary>
    public required int Warmup { get; init; }

    /// <summary>The budget that chose the count, or null when the caller gave it.</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>Exact retained sizes of the measured pass, from the baseline (iteration 0).</summary>
    public required IReadOnlyList<Checkpoint> Checkpoints { get; init; }

    /// <summary>Checkpoints of the repeat pass; empty when none ran.</summary>
    public IReadOnlyList<Checkpoint> RepeatCheckpoints { get; init; } = [];

    /// <summary>Where the sampled profile begins: 0 for the measured pass, else the repeat pass's first iteration.</summary>
    public int ProfiledFromIteration { get; init; }

    /// <summary>Exact bytes allocated per measured iteration.</summary>
    public double AllocatedBytesPerIteration { get; init; }

    /// <summary>Which counter measured the traffic.</summary>
    public string TrafficScope { get; init; } = "this thread, exact";

    /// <summary>Bytes other threads allocated during the measured iterations of a sync workload; null when not measured.</summary>
    public long? OtherThreadsAllocatedBytes { get; init; }

    /// <summary>Whether the run was inside a test its adapter runs alone ([LeakTest]).</summary>
    public bool Isolated { get; init; }

    /// <summary>The sampled profiles, or null with <see cref="SamplingProblem"/> saying why.</summary>
    public ProfileSet? Profiles { get; init; }

    /// <summary>Why there is no sampled profile.</summary>
    public string? SamplingProblem { get; init; }

    /// <summary>What the heap snapshots found by type, or null with <see cref="HeapSnapshotProblem"/> saying why.</summary>
    public HeapDiff? Heap { get; init; }

    /// <summary>Why there are no heap snapshots.</summary>
    public string? HeapSnapshotProblem { get; init; }

    /// <summary>Samples wanted behind the growth before its sites are trusted.</summary>
    public int MinAttributionSamples { get; init; } = 20;

    /// <summary>Wall time of the whole call.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Wall time of the measured iterations alone.</summary>
    public TimeSpan MeasuredTime { get; init; }

    /// <summary>The counters outside the GC heap at the measured checkpoints, or null when they were not measured.</summary>
    public OutsideHeap? OutsideHeap { get; init; }

    /// <summary>Why the counters outside the GC heap were not measured; null when they were.</summary>
    public string? OutsideHeapProblem { get; init; }
}
