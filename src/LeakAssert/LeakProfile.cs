using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

namespace LeakAssert;

/// <summary>
/// What one profiled run measured: exact retained sizes at each checkpoint (the verdict rests on these alone),
/// exact allocation traffic, and the sampled before/after/diff heap profiles that say where growth came from.
/// </summary>
public sealed class LeakProfile
{
    internal LeakProfile(int iterations, int warmup, TimeSpan? timeBudget, IReadOnlyList<Checkpoint> checkpoints, IReadOnlyList<Checkpoint> attributionCheckpoints,
        int profiledFromIteration, double allocatedBytesPerIteration, string trafficScope, ProfileSet? profiles, string? samplingProblem, int minAttributionSamples,
        TimeSpan elapsed, TimeSpan measuredTime)
    {
        Iterations = iterations;
        Warmup = warmup;
        TimeBudget = timeBudget;
        Checkpoints = checkpoints;
        AttributionCheckpoints = attributionCheckpoints;
        ProfiledFromIteration = profiledFromIteration;
        AllocatedBytesPerIteration = allocatedBytesPerIteration;
        TrafficScope = trafficScope;
        Profiles = profiles;
        SamplingProblem = samplingProblem;
        MinAttributionSamples = minAttributionSamples;
        Elapsed = elapsed;
        MeasuredTime = measuredTime;
        Growth = GrowthFit.Of(checkpoints);
    }

    /// <summary>Measured iterations (warmup and attribution iterations excluded).</summary>
    public int Iterations { get; }

    /// <summary>Unmeasured iterations run first.</summary>
    public int Warmup { get; }

    /// <summary>The budget that chose <see cref="Iterations"/>, or null when the caller gave the count.</summary>
    public TimeSpan? TimeBudget { get; }

    /// <summary>Exact retained sizes, from the baseline (iteration 0) to the last measured iteration.</summary>
    public IReadOnlyList<Checkpoint> Checkpoints { get; }

    /// <summary>Checkpoints of the extra iterations run only to gather samples; they take no part in the verdict.</summary>
    public IReadOnlyList<Checkpoint> AttributionCheckpoints { get; }

    /// <summary>Where the sampled profile begins: 0 when it covers the measured iterations, else the first iteration of the attribution pass.</summary>
    public int ProfiledFromIteration { get; }

    /// <summary>Exact retained growth over the iterations the sampled profile covers, to compare its estimate with.</summary>
    public ByteSize ProfiledGrowth
    {
        get
        {
            var end = AttributionCheckpoints.Count > 0 ? AttributionCheckpoints[^1] : Checkpoints[^1];
            var start = Checkpoints.Concat(AttributionCheckpoints).Last(c => c.Iteration <= ProfiledFromIteration);
            return new ByteSize(end.RetainedBytes - start.RetainedBytes);
        }
    }

    /// <summary>
    /// The repeat pass run after rising growth (iterations, exact growth over them), or null when none ran with its
    /// own baseline: a leak grows again there, growth from elsewhere in the process does not.
    /// </summary>
    internal (int Iterations, long GrowthBytes)? RepeatPass =>
        AttributionCheckpoints is [var first, .., var last] && first.Iteration == Iterations
            ? (last.Iteration - first.Iteration, last.RetainedBytes - first.RetainedBytes)
            : null;

    /// <summary>Iterations run after the measured ones to gather samples for attribution.</summary>
    public int AttributionIterations => AttributionCheckpoints.Count == 0 ? 0 : AttributionCheckpoints[^1].Iteration - Iterations;

    /// <summary>Exact retained growth over the measured iterations.</summary>
    public ByteSize RetainedGrowth => new(Checkpoints[^1].RetainedBytes - Checkpoints[0].RetainedBytes);

    /// <summary>The fitted line through the checkpoints: growth per iteration and whether it plateaus.</summary>
    public GrowthFit Growth { get; }

    /// <summary>Exact bytes allocated per measured iteration (traffic, not retention).</summary>
    public double AllocatedBytesPerIteration { get; }

    /// <summary>Which counter measured the traffic.</summary>
    public string TrafficScope { get; }

    /// <summary>The sampled profiles, or null when none could be taken (see <see cref="SamplingProblem"/>).</summary>
    public ProfileSet? Profiles { get; }

    /// <summary>Why there is no sampled profile; null when there is one.</summary>
    public string? SamplingProblem { get; }

    /// <summary>Samples wanted behind the growth before its sites are trusted.</summary>
    public int MinAttributionSamples { get; }

    /// <summary>Wall time of the whole call, measurement and profiling included.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Wall time of the measured iterations alone.</summary>
    public TimeSpan MeasuredTime { get; }

    /// <summary>The full text report: verdict, exact growth, top, traces and the sampling note.</summary>
    public string Report() => LeakReport.ToText(this, verdict: null);

    /// <summary>Writes the full text report.</summary>
    public void WriteReport(TextWriter writer) => LeakReport.Write(writer, this, verdict: null);

    /// <inheritdoc />
    public override string ToString() => $"retained {RetainedGrowth} over {Iterations} iterations";
}
