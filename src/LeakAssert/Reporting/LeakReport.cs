using System.Globalization;
using System.Text.RegularExpressions;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Verdicts;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// The report a developer reads first: the verdict, the exact growth at each checkpoint, pprof's top, traces and a
/// list of the top function for the retained diff, and how many samples stand behind each sampled figure.
/// Culture-invariant.
/// </summary>
internal static class LeakReport
{
    private const int TopRows = 10;
    private const int TraceStacks = 5;
    private const int ListContextLines = 2;
    private const int OtherThreadStacks = 3;

    public static string ToText(LeakProfile p, Verdict? verdict)
    {
        using var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(w, p, verdict);
        return w.ToString();
    }

    public static void Write(TextWriter w, LeakProfile p, Verdict? verdict)
    {
        WriteVerdict(w, p, verdict);
        w.WriteLine();
        if (HeapReport.Lines(p) is { Count: > 0 } heap)
        {
            foreach (var line in heap) w.WriteLine(line);
            w.WriteLine();
        }
        WriteCheckpoints(w, p);
        OutsideHeapReport.Write(w, p, verdict);
        w.WriteLine();
        WriteProfile(w, p);
    }

    /// <summary>"PASSED: expected ...; ...." or "FAILED: ...", the report's first line.</summary>
    internal static string VerdictSentence(Verdict v) => Inv($"{(v.Passed ? "PASSED" : "FAILED")}: expected {v.Bound}; {v.Finding}.");

    private static void WriteVerdict(TextWriter w, LeakProfile p, Verdict? v)
    {
        if (v is not null) w.WriteLine(VerdictSentence(v));
        foreach (var sentence in Summary(p)) w.WriteLine(sentence);
    }

    /// <summary>The exact figures in four sentences: retained growth, growth per iteration, trend and traffic.</summary>
    internal static IReadOnlyList<string> Summary(LeakProfile p)
    {
        var g = p.Growth;
        var chosen = p.TimeBudget is not { } budget ? ""
            : p.Iterations == LeakOptions.MinBudgetIterations && p.MeasuredTime > budget
                ? Inv($"; {LeakOptions.MinBudgetIterations} is the fewest LeakAssert measures, so they ran {p.MeasuredTime.TotalSeconds:0.#} s, past the {budget.TotalSeconds:0.###} s budget")
                : Inv($"; the count fills a {budget.TotalSeconds:0.###} s budget timed in the warmup");
        var sentences = new List<string>
        {
            Inv($"Retained {p.RetainedGrowth} over {Count(p.Iterations)} iterations (after {Count(p.Warmup)} warmup{chosen})."),
            Inv($"Growth per iteration: {Bytes(g.SlopeBytesPerIteration)} (99% lower bound {Bytes(g.SlopeLowerBound99)}; least squares over {p.Checkpoints.Count} checkpoints, R² {g.RSquared:F2}); second half {Bytes(g.TailSlopeBytesPerIteration)} (99% lower bound {Bytes(g.TailSlopeLowerBound99)})."),
        };
        if (g.SetAside is { } step)
            sentences.Add(Inv($"Set aside: between iterations {Count(step.FromIteration)} and {Count(step.ToIteration)} the heap stepped {(step.Bytes < 0 ? "down" : "up")} {Bytes(Math.Abs(step.Bytes))} beyond what every other segment grew, once, as something else in the process does; the fit above is of the rest."));
        sentences.Add(TrendSentence(p));
        sentences.Add(Inv($"Traffic: {Bytes(p.AllocatedBytesPerIteration)} allocated per iteration ({p.TrafficScope})."));
        if (BesideOthers(p) is { } others) sentences.Add(others);
        return sentences;
    }

    /// <summary>
    /// Other threads that allocated heavily (1 MB or more) beside a sync measurement that no [LeakTest] ran alone:
    /// what they kept is on the same heap, so the figures above may be theirs.
    /// </summary>
    private static string? BesideOthers(LeakProfile p)
    {
        if (p.Isolated || p.OtherThreadsAllocatedBytes is not { } others || others < OthersBytes) return null;
        var own = p.AllocatedBytesPerIteration * p.Iterations;
        return Inv($"Beside it: other threads allocated {Bytes(others)} during the measured iterations (this thread {Bytes(own)}); the heap is process-wide, so what they kept counts as growth here unless it was work this workload handed them. Measure it in a [LeakTest], which runs its test alone.");
    }

    private const long OthersBytes = 1 << 20;

    // With too few checkpoints the fit's trend is an artefact (no second half to fit), so the report says so instead.
    private static string TrendSentence(LeakProfile p) =>
        p.Checkpoints.Count < GrowthFit.MinCheckpointsForTrend
            ? Inv($"Trend: not decided: {Count(p.Checkpoints.Count)} checkpoints are too few to fit a second half, so a leak and a cache that levels off look alike.")
            : p.Growth.Trend switch
            {
                GrowthTrend.Rising when p.LevelOff is { } flat && flat.Refutes(p.Growth.SlopeLowerBound99, 0) =>
                    Inv($"Trend: rising over the measured iterations{(flat.IsStaircase ? ", in steps" : "")}, then no higher over the last {Count(flat.FlatIterations)} iterations of the repeat pass, as a container that fills and stops is."),
                GrowthTrend.Rising => "Trend: still rising at the end, as a leak does.",
                GrowthTrend.Plateau => "Trend: grew, then levelled off in the second half, as a cache that fills does.",
                _ => Inv($"Trend: flat: no steady growth beyond the {Bytes(GrowthFit.NoiseFloorBytes)} noise floor of a forced-GC measurement, with 99% confidence."),
            };

    private static void WriteCheckpoints(TextWriter w, LeakProfile p)
    {
        w.WriteLine("Exact retained heap, each after a forced full blocking GC:");
        w.WriteLine("   iteration     retained       growth");
        var baseline = p.Checkpoints[0].RetainedBytes;
        foreach (var c in p.Checkpoints)
            w.WriteLine(Inv($"{Count(c.Iteration),12} {Bytes(c.RetainedBytes),12} {Bytes(c.RetainedBytes - baseline),12}"));
        foreach (var c in p.RepeatPassCheckpoints)
            w.WriteLine(Inv($"{Count(c.Iteration),12} {Bytes(c.RetainedBytes),12} {Bytes(c.RetainedBytes - baseline),12}  (repeat pass)"));
    }

    private static void WriteProfile(TextWriter w, LeakProfile p)
    {
        if (p.Profiles is not { } set)
        {
            w.WriteLine(NoProfileSentence(p));
            return;
        }
        foreach (var sentence in ProfileSource(p, set)) w.WriteLine(sentence);
        var diff = set.Diff;
        w.WriteLine();
        if (diff.Samples.Any(s => s.InuseSpace != 0))
        {
            Top.Of(diff, SampleValue.InuseSpace, TopRows).Write(w, Size);
            w.WriteLine();
            w.WriteLine("traces (inuse_space):");
            Traces.Of(diff, SampleValue.InuseSpace, TraceStacks).Write(w, Size);
            WriteList(w, diff);
        }
        else
        {
            w.WriteLine("No sampled object allocated by the workload survived: nothing to attribute.");
        }
        WriteOtherThreads(w, set);
        w.WriteLine();
        w.WriteLine(Inv($"Allocation churn in the diff (alloc_space): {Bytes(diff.Total(SampleValue.AllocSpace))} from {diff.SampleCount(SampleValue.AllocSpace)} samples."));
        var linked = set.LinkedSamples > 0 ? Inv($"{Count(set.LinkedSamples)} of them, taken in tasks or threads the workload started, were followed back to it; ") : "";
        w.WriteLine(Inv($"Sampling: the .NET runtime samples about one allocation per {Bytes(HeapProfile.SamplingPeriodBytes)} allocated and the rate cannot be changed; every sampled figure is an unbiased estimate from the samples shown beside it. {Count(set.TotalSamples)} samples in the trace; {linked}{Count(set.ForeignSamples)} from other threads or the test host were left out."));
    }

    // Growth the workload's profile cannot show: objects that other threads allocated in the window and that survived,
    // when the trace did not lead from those threads back to the workload (a queued work item, a timer, the test
    // host). Whole stacks, since there is no workload frame to cut them at; only what grew, as that is what is asked.
    private static void WriteOtherThreads(TextWriter w, ProfileSet set)
    {
        if (set.OtherThreads is not { } others) return;
        var grew = new HeapProfile(others.Name, others.Samples.Where(s => s.InuseSpace > 0).ToArray(), others.CapturedAt);
        if (grew.Samples.Count == 0) return;
        w.WriteLine();
        w.WriteLine(Inv($"Retained by allocations on other threads that LeakAssert could not link to the workload (work it queued without a task or thread, such as a work item or a timer, or the test host): {Bytes(grew.Total(SampleValue.InuseSpace))} ± {Bytes(grew.InuseBytesMargin95)} (95%) from {Count(grew.SampleCount(SampleValue.InuseSpace))} samples, not in the profile above; the largest stacks, whole:"));
        Traces.Of(grew, SampleValue.InuseSpace, OtherThreadStacks).Write(w, Size);
    }

    /// <summary>Which iterations the sampled profile covers, its estimate beside the exact growth, and any warning on too few samples.</summary>
    internal static IReadOnlyList<string> ProfileSource(LeakProfile p, ProfileSet set)
    {
        var diff = set.Diff;
        var samples = diff.SampleCount(SampleValue.InuseSpace);
        var span = p.ProfiledFromIteration > 0
            ? Inv($"a second pass of {Count(p.RepeatPassIterations)} iterations after the measured ones, run because the growth was rising")
            : p.RepeatPassIterations > 0
                ? Inv($"{Count(p.Iterations)} measured + {Count(p.RepeatPassIterations)} attribution iterations")
                : Inv($"{Count(p.Iterations)} measured iterations");
        var sentences = new List<string>
        {
            Inv($"Where it was allocated: sampled heap profile of {span}; diff after - before, inuse_space:"),
            Inv($"estimate {Bytes(diff.Total(SampleValue.InuseSpace))} ± {Bytes(diff.InuseBytesMargin95)} (95%) from {samples} samples; exact growth over the same iterations {p.ProfiledGrowth}."),
        };
        if (p.ProfiledFromIteration == 0 && p.RepeatPassIterations > 0)
            sentences.Add(Inv($"The exact growth was too small for {p.MinAttributionSamples} samples, so {Count(p.RepeatPassIterations)} more iterations ran for attribution only."));
        if (p.Growth.Trend == GrowthTrend.Rising && samples < p.MinAttributionSamples)
            sentences.Add(Inv($"Only {samples} samples stand behind the growth, fewer than the {p.MinAttributionSamples} wanted: treat the sites below as hints (raise iterations or LeakOptions.AttributionBudget)."));
        return sentences;
    }

    /// <summary>"No heap profile: why. ...": what the report says in place of the sampled sections.</summary>
    internal static string NoProfileSentence(LeakProfile p) =>
        Inv($"No heap profile: {p.SamplingProblem}. The verdict rests on the exact figures above, which were measured; only the allocation sites are missing.");

    // The top function by flat that has file:line (normally the workload's own method; a runtime frame without a PDB
    // has no lines to show), listed with a little context so that the report stays short.
    private static void WriteList(TextWriter w, HeapProfile diff)
    {
        var function = Top.Of(diff, SampleValue.InuseSpace, int.MaxValue).Rows
            .Where(r => r.Flat != 0)
            .Select(r => r.Function)
            .FirstOrDefault(f => diff.Samples.Any(s => s.Stack.Any(frame => frame.Function == f && frame.File is not null)));
        if (function is null) return;
        w.WriteLine();
        w.WriteLine(Inv($"list {function} (inuse_space):"));
        SourceList.Of(diff, SampleValue.InuseSpace, "^" + Regex.Escape(function) + "$", ListContextLines).Write(w, Size);
    }

    private static string Size(long bytes) => Bytes(bytes);
}
