using LeakAssert.Measurement;
using LeakAssert.Verdicts;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// The report's "Outside the GC heap" section: one row per counter (baseline, end, growth, growth per iteration,
/// trend) and the assemblies and threads that were new. Printed only when a counter rose steadily or a verdict on one
/// failed, so that the report of a run where nothing grew out there stays as short as it was.
/// </summary>
internal static class OutsideHeapReport
{
    /// <summary>Whether the section is printed for this profile and verdict.</summary>
    public static bool Shows(LeakProfile p, Verdict? verdict) =>
        p.OutsideHeap is { } o && (o.All.Any(s => s.IsRising) || verdict is { Passed: false, ConcernsOutsideHeap: true });

    /// <summary>Writes a blank line and the section, or nothing.</summary>
    public static void Write(TextWriter w, LeakProfile p, Verdict? verdict)
    {
        if (p.OutsideHeapProblem is { } problem)
        {
            w.WriteLine();
            w.WriteLine($"Outside the GC heap: not measured, because {problem}; assemblies, threads, handles and native memory were not judged.");
            return;
        }
        if (p.OutsideHeap?.All.Where(c => !c.IsMeasured).ToList() is { Count: > 0 } unmeasured)
        {
            w.WriteLine();
            w.WriteLine($"Not measured on this platform: {string.Join("; ", unmeasured.Select(c => c.NotMeasured))}. The defaults pass them; an assertion on them fails.");
        }
        if (!Shows(p, verdict)) return;
        var o = p.OutsideHeap!;
        w.WriteLine();
        w.WriteLine("Outside the GC heap, at the same checkpoints (native memory: private pages less the GC's committed memory; threads: the thread pool's left out):");
        w.WriteLine("                   baseline          end       growth  per iteration  trend");
        foreach (var s in o.All)
        {
            if (!s.IsMeasured)
            {
                w.WriteLine(Inv($"{s.Name,-13} {"not measured on this platform",-41}"));
                continue;
            }
            string Value(double v) => s.CountsBytes ? Bytes(v) : Rate(v);
            var first = s.Readings.Count == 0 ? 0 : s.Readings[0].Value;
            var last = s.Readings.Count == 0 ? 0 : s.Readings[^1].Value;
            w.WriteLine(Inv($"{s.Name,-13} {Value(first),12} {Value(last),12} {Value(s.Total),12} {Value(s.Growth.SlopeBytesPerIteration),14}  {Trend(s)}"));
        }
        if (o.NewAssemblies.Count > 0)
            w.WriteLine(Inv($"New assemblies: {OutsideHeapVerdicts.NewAssemblies(o)}."));
        if (o.NewThreads.Count > 0)
            w.WriteLine(Inv($"New threads: {OutsideHeapVerdicts.NewThreads(o)}."));
    }

    private static string Trend(CounterSeries s) =>
        !s.IsDecidable ? "not decided"
        : s.IsRising ? "still rising"
        : s.Growth.Trend == GrowthTrend.Flat ? "flat"
        : s.Growth.Trend == GrowthTrend.Plateau ? "levelled off"
        : "grew in steps";
}
