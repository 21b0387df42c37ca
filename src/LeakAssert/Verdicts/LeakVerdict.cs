namespace LeakAssert.Verdicts;

/// <summary>
/// The one verdict of a retained-bytes leak assertion and of a body-form [LeakTest] alike: every heap bound that was
/// set, then, as every leak assertion does, steady growth outside the GC heap. Accepted growth does not enter it:
/// <see cref="LeakOptions.AcceptedGrowth"/> is listed apart in the report and passes the type assertions only.
/// </summary>
internal static class LeakVerdict
{
    /// <summary>The first heap bound that failed, else the first default outside the heap that failed, else the first heap bound's (passed).</summary>
    public static Verdict Decide(LeakProfile p, ByteSize? total, PerIterationBound? perIteration)
    {
        List<Verdict> heap = [];
        if (total is { } t) heap.Add(Verdict.Total(p, t));
        if (perIteration is { } each) heap.Add(Verdict.PerIteration(p, each));
        if (heap.Count == 0) throw new ArgumentException("A leak verdict needs a heap bound: a total, one per iteration, or both.");
        return heap.FirstOrDefault(v => !v.Passed) ?? OutsideHeapVerdicts.Defaults(p).FirstOrDefault(v => !v.Passed) ?? heap[0];
    }
}
