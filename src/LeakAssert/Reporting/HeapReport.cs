using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Snapshots;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// What leaks and what holds it, the report's lead: each leak group (the object every iteration adds, its holder, what
/// it retains, its trace from the root and where the sampled profile saw it allocated), largest first, then one line
/// for the growth that was one-off. pprof's top stays below it. Lines as data, for the text report to print.
/// </summary>
internal static class HeapReport
{
    private const string Indent = "  ";
    private const string Detail = "     ";

    /// <summary>Groups printed with their traces; the rest get their header line (all are in the artifacts).</summary>
    internal const int TracedGroups = 5;

    /// <summary>The section's lines; empty when there is nothing to say (no snapshots and no rising growth).</summary>
    public static IReadOnlyList<string> Lines(LeakProfile p)
    {
        if (p.HeapGrowth is not { } heap)
            return p.HeapSnapshotProblem is { } problem && p.Growth.Trend == GrowthTrend.Rising
                ? [Inv($"What leaks: no heap snapshots: {problem}.")]
                : [];
        var span = Inv($"the {Count(heap.Iterations)} iterations of {heap.Pass} (heap snapshots of {Count(heap.Objects)} objects, {heap.TakenIn.TotalSeconds:0.00} s)");
        if (heap.LeaksProblem is { } why) return ByType(p, heap, span, why);
        var lines = new List<string>
        {
            heap.Leaks.Count switch
            {
                0 => Inv($"What leaks: no object was added steadily over {span}."),
                1 => Inv($"What leaks: 1 leak over {span}:"),
                var n => Inv($"What leaks: {n} leaks over {span}, largest first:"),
            },
        };
        for (var i = 0; i < heap.Leaks.Count; i++)
        {
            var g = heap.Leaks[i];
            lines.Add("");
            lines.Add(LeakTrace.Header(i + 1, g));
            if (i >= TracedGroups) continue;
            lines.AddRange(LeakTrace.Lines(g, Indent));
            lines.AddRange(LeakTrace.ThreadLines(g, p.OutsideHeap?.NewThreads ?? [], Detail));
            lines.Add(LeakTrace.Retains(g, Detail));
            if (AllocatedAt(p.Profiles?.Diff, g) is { } site) lines.Add(Detail + "allocated at: " + site);
        }
        if (heap.Leaks.Count > 0) lines.Add("");
        foreach (var a in heap.AcceptedLeaks)
            lines.Add(Inv($"Accepted [{a.Group.Signature}]: {a.Group.CountPerIteration:0.##} {LeakTrace.Short(a.Group.BoundaryType)} per iteration held by {Holder(a.Group)}, {Bytes(a.Group.RetainedBytesPerIteration)} per iteration: {a.Reason}"));
        // What is not the leak gets one line: growth that came once, and steady groups too small to list beside it.
        var minor = heap.MinorLeaks.Count == 0 ? null
            : Inv($"+{Bytes(heap.MinorLeaks.Sum(g => g.RetainedBytes))} in {Count(heap.MinorLeaks.Count)} steady {(heap.MinorLeaks.Count == 1 ? "group" : "groups")} under {LeakGroups.MinorShare:0%} of the leaks' bytes and under one object per {LeakGroups.MinorEvery} iterations (in the .leaks.json artifact)");
        if (heap.OneOffBytes > 0)
            lines.Add(Inv($"One-off growth, not listed: +{Bytes(heap.OneOffBytes)} in {Count(heap.OneOffObjects)} objects that {(heap.Halved ? "did not grow in proportion over the two halves of the iterations" : "no steady count per iteration added")}, as growth that comes once does (a cache warming up, metadata built when a trace session starts){(minor is null ? "" : "; also " + minor)}."));
        else if (minor is not null)
            lines.Add("Smaller steady growth, not listed: " + minor + ".");
        return lines;
    }

    // Without object identity the snapshots still give exact counts by type.
    private static IReadOnlyList<string> ByType(LeakProfile p, HeapDiff heap, string span, string why)
    {
        var lines = new List<string> { Inv($"What leaks: exact heap diff by type over {span}; no leak groups: {why}:") };
        if (heap.Types.Count == 0) lines.Add("  no type gained instances.");
        foreach (var t in heap.Types)
        {
            lines.Add(Inv($"  {Signed(t.Count)} {t.TypeName} ({t.CountPerIteration:0.00} per iteration), {(t.Bytes >= 0 ? "+" : "")}{Bytes(t.Bytes)}"));
            if (AllocatedAt(p.Profiles?.Diff, [t.TypeName]) is { } site) lines.Add(Detail + "allocated at: " + site);
        }
        foreach (var a in heap.Accepted)
            lines.Add(Inv($"  accepted: {Signed(a.Count)} {a.TypeName} ({(heap.Iterations == 0 ? 0 : (double)a.Count / heap.Iterations):0.00} per iteration), {(a.Bytes >= 0 ? "+" : "")}{Bytes(a.Bytes)}: {a.Reason}"));
        return lines;
    }

    /// <summary>"static Contoso.Cache.Sink", "Contoso.Feed.Changed", "strong handle".</summary>
    internal static string Holder(LeakGroup g) =>
        g.HolderField is null ? g.HolderType
        : g.Root == Inv($"static field {g.HolderType}.{g.HolderField}") ? Inv($"static {g.HolderType}.{g.HolderField}")
        : Inv($"{TypeName.Parse(g.HolderType).Qualified()}.{g.HolderField}");

    // The sampled site that retained most of these types (a group's boundary and what it retains): the first frame with
    // source lines (the user's code), else the leaf, with the samples behind it. Sampled type names are the runtime's
    // own, as the snapshot's are for all but nested types.
    /// <summary>Where the sampled profile saw a group's objects allocated: its boundary type and all it retains.</summary>
    internal static string? AllocatedAt(HeapProfile? diff, LeakGroup g) => AllocatedAt(diff, [g.BoundaryType, .. g.Retains.Select(t => t.TypeName)]);

    private static string? AllocatedAt(HeapProfile? diff, IReadOnlyCollection<string> typeNames)
    {
        if (diff is null) return null;
        var site = diff.Samples.Where(s => s.InuseSpace > 0 && s.Stack.Count > 0 && typeNames.Contains(s.TypeName))
            .GroupBy(s => (s.Stack.FirstOrDefault(f => f.File is not null) ?? s.Stack[0]).ToString())
            .Select(g => (Frame: g.Key, Bytes: g.Sum(s => s.InuseSpace), Samples: g.Sum(s => s.InuseSamples)))
            .OrderByDescending(g => g.Bytes).ThenBy(g => g.Frame, StringComparer.Ordinal)
            .FirstOrDefault();
        return site.Frame is null ? null : Inv($"{site.Frame} ({Count(site.Samples)} samples in the profile below)");
    }

    private static string Signed(long n) => (n >= 0 ? "+" : "") + Count(n);
}
