using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Reporting;
using LeakAssert.Snapshots;

namespace LeakAssert;

/// <summary>
/// What one profiled run measured: exact retained sizes at each checkpoint (the verdict rests on these alone),
/// exact allocation traffic, and the sampled before/after/diff heap profiles that say where growth came from.
/// </summary>
public sealed class LeakProfile
{
    private readonly MeasuredRun _run;

    internal LeakProfile(MeasuredRun run)
    {
        _run = run;
        Growth = GrowthFit.Of(run.Checkpoints);
    }

    /// <summary>Measured iterations (warmup and repeat-pass iterations excluded).</summary>
    public int Iterations => _run.Iterations;

    /// <summary>Unmeasured iterations run first.</summary>
    public int Warmup => _run.Warmup;

    /// <summary>The budget that chose <see cref="Iterations"/>, or null when the caller gave the count.</summary>
    public TimeSpan? TimeBudget => _run.TimeBudget;

    /// <summary>Exact retained sizes, from the baseline (iteration 0) to the last measured iteration.</summary>
    public IReadOnlyList<Checkpoint> Checkpoints => _run.Checkpoints;

    /// <summary>
    /// Checkpoints of the repeat pass, the iterations run after the measured ones when growth was rising (to see
    /// whether it repeats, and to gather samples); only the repeat-pass rule of a per-iteration verdict reads them.
    /// </summary>
    public IReadOnlyList<Checkpoint> RepeatPassCheckpoints => _run.RepeatCheckpoints;

    /// <summary>Where the sampled profile begins: 0 when it covers the measured iterations, else the first iteration of the repeat pass.</summary>
    public int ProfiledFromIteration => _run.ProfiledFromIteration;

    /// <summary>Exact retained growth over the iterations the sampled profile covers, to compare its estimate with.</summary>
    public ByteSize ProfiledGrowth
    {
        get
        {
            var end = RepeatPassCheckpoints.Count > 0 ? RepeatPassCheckpoints[^1] : Checkpoints[^1];
            var start = Checkpoints.Concat(RepeatPassCheckpoints).Last(c => c.Iteration <= ProfiledFromIteration);
            return new ByteSize(end.RetainedBytes - start.RetainedBytes);
        }
    }

    /// <summary>
    /// The repeat pass run after rising growth (iterations, exact growth over them), or null when none ran with its
    /// own baseline: a leak grows again there, growth from elsewhere in the process does not.
    /// </summary>
    internal (int Iterations, long GrowthBytes)? RepeatPass =>
        RepeatPassCheckpoints is [var first, .., var last] && first.Iteration == Iterations
            ? (last.Iteration - first.Iteration, last.RetainedBytes - first.RetainedBytes)
            : null;

    /// <summary>The repeat pass's checkpoints from its baseline: its own, or the measured pass's last when it had none.</summary>
    internal IReadOnlyList<Checkpoint> RepeatSeries =>
        RepeatPassCheckpoints.Count == 0 ? []
        : RepeatPassCheckpoints[0].Iteration == Iterations ? RepeatPassCheckpoints
        : [Checkpoints[^1], .. RepeatPassCheckpoints];

    /// <summary>The flat stretch the repeat pass ended on, or null when its last segment grew (or there was no pass).</summary>
    internal LevelOff? LevelOff => Measurement.LevelOff.Of(Checkpoints, RepeatSeries);

    /// <summary>Iterations of the repeat pass, run after the measured ones.</summary>
    public int RepeatPassIterations => RepeatPassCheckpoints.Count == 0 ? 0 : RepeatPassCheckpoints[^1].Iteration - Iterations;

    /// <summary>Exact retained growth over the measured iterations.</summary>
    public ByteSize RetainedGrowth => new(Checkpoints[^1].RetainedBytes - Checkpoints[0].RetainedBytes);

    /// <summary>The fitted line through the checkpoints: growth per iteration and whether it plateaus.</summary>
    public GrowthFit Growth { get; }

    /// <summary>
    /// What grew outside the GC heap at the same checkpoints: native memory, assemblies, load contexts, threads and
    /// handles, each with its fit, and the assemblies and threads that were new at the end. Null for a profile that
    /// was not measured by a run.
    /// </summary>
    public OutsideHeap? OutsideHeap => _run.OutsideHeap;

    /// <summary>Why <see cref="OutsideHeap"/> is null for a measured run: the counters that could not be read.</summary>
    public string? OutsideHeapProblem => _run.OutsideHeapProblem;

    /// <summary>Exact bytes allocated per measured iteration (traffic, not retention).</summary>
    public double AllocatedBytesPerIteration => _run.AllocatedBytesPerIteration;

    /// <summary>Bytes other threads allocated during the measured iterations of a sync workload; null when not measured.</summary>
    internal long? OtherThreadsAllocatedBytes => _run.OtherThreadsAllocatedBytes;

    /// <summary>Whether the run was inside a test its adapter runs alone ([LeakTest]).</summary>
    internal bool Isolated => _run.Isolated;

    /// <summary>Which counter measured the traffic.</summary>
    public string TrafficScope => _run.TrafficScope;

    /// <summary>The sampled profiles, or null when none could be taken (see <see cref="SamplingProblem"/>).</summary>
    public ProfileSet? Profiles => _run.Profiles;

    /// <summary>Why there is no sampled profile; null when there is one.</summary>
    public string? SamplingProblem => _run.SamplingProblem;

    /// <summary>
    /// What leaks, exactly, by type: the growth in instances and bytes between heap snapshots, leading type first, with
    /// the paths from GC roots that hold the instances; null when no snapshots were taken (see <see cref="HeapSnapshotProblem"/>).
    /// </summary>
    public HeapDiff? HeapGrowth => _run.Heap;

    /// <summary>
    /// What leaks, as leak groups ranked as the report prints them: each the object every iteration adds (its boundary
    /// type), the old object and field that holds it, how many each iteration adds, the bytes they retain and the path
    /// from the root. Empty when no snapshots were taken or nothing grew steadily; accepted groups are in
    /// <see cref="HeapDiff.AcceptedLeaks"/>.
    /// </summary>
    public IReadOnlyList<LeakGroup> Leaks => _run.Heap?.Leaks ?? [];

    /// <summary>Why there are no heap snapshots; null when there are.</summary>
    public string? HeapSnapshotProblem => _run.HeapSnapshotProblem;

    /// <summary>Samples wanted behind the growth before its sites are trusted.</summary>
    public int MinAttributionSamples => _run.MinAttributionSamples;

    /// <summary>Wall time of the whole call, measurement and profiling included.</summary>
    public TimeSpan Elapsed => _run.Elapsed;

    /// <summary>Wall time of the measured iterations alone.</summary>
    public TimeSpan MeasuredTime => _run.MeasuredTime;

    /// <summary>The full text report: verdict, exact growth, top, traces and the sampling note.</summary>
    public string Report() => LeakReport.ToText(this, verdict: null);

    /// <summary>Writes the full text report.</summary>
    public void WriteReport(TextWriter writer) => LeakReport.Write(writer, this, verdict: null);

    /// <inheritdoc />
    public override string ToString() => $"retained {RetainedGrowth} over {Iterations} iterations";
}
