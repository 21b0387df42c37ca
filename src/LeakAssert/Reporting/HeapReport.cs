using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Snapshots;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// What leaks and what holds it, the report's lead: each leading type's exact growth with its count per iteration, the
/// retention paths from GC roots that hold its instances, and where the sampled profile saw it allocated. One story
/// per leak; pprof's top stays below it. Lines as data, for the text report to print.
/// </summary>
internal static class HeapReport
{
    private const string Indent = "      ";

    /// <summary>The section's lines; empty when there is nothing to say (no snapshots and no rising growth).</summary>
    public static IReadOnlyList<string> Lines(LeakProfile p)
    {
        if (p.HeapGrowth is not { } heap)
            return p.HeapSnapshotProblem is { } problem && p.Growth.Trend == GrowthTrend.Rising
                ? [Inv($"What leaks: no heap snapshots: {problem}.")]
                : [];
        var lines = new List<string>
        {
            Inv($"What leaks: exact heap diff by type over the {Count(heap.Iterations)} iterations of {heap.Pass} (heap snapshots of {Count(heap.Objects)} objects, {heap.TakenIn.TotalSeconds:0.00} s):"),
        };
        if (heap.Types.Count == 0) lines.Add("  no type gained instances.");
        foreach (var t in heap.Types)
        {
            lines.Add(Inv($"  {Signed(t.Count)} {t.TypeName} ({t.CountPerIteration:0.00} per iteration), {(t.Bytes >= 0 ? "+" : "")}{Bytes(t.Bytes)}"));
            foreach (var held in t.HeldBy)
                lines.Add(Inv($"{Indent}held by {Count(held.Instances)}: {held.Path}"));
            if (AllocatedAt(p.Profiles?.Diff, t.TypeName) is { } site) lines.Add(Indent + "allocated at: " + site);
        }
        foreach (var a in heap.Accepted)
            lines.Add(Inv($"  accepted: {Signed(a.Count)} {a.TypeName} ({(heap.Iterations == 0 ? 0 : (double)a.Count / heap.Iterations):0.00} per iteration), {(a.Bytes >= 0 ? "+" : "")}{Bytes(a.Bytes)}: {a.Reason}"));
        return lines;
    }

    // The sampled site that retained most of this type: the first frame with source lines (the user's code), else the
    // leaf. Sampled type names are the runtime's own, as the snapshot's are for all but nested types.
    private static string? AllocatedAt(HeapProfile? diff, string typeName)
    {
        var row = diff?.Samples.Where(s => s.TypeName == typeName && s.InuseSpace > 0).MaxBy(s => s.InuseSpace);
        if (row is null || row.Stack.Count == 0) return null;
        var frame = row.Stack.FirstOrDefault(f => f.File is not null) ?? row.Stack[0];
        var samples = diff!.Samples.Where(s => s.TypeName == typeName && s.InuseSpace > 0).Sum(s => s.InuseSamples);
        return Inv($"{frame} ({Count(samples)} samples of this type in the profile below)");
    }

    private static string Signed(long n) => (n >= 0 ? "+" : "") + Count(n);
}
