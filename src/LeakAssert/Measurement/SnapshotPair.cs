using LeakAssert.Snapshots;

namespace LeakAssert.Measurement;

/// <summary>
/// Heap snapshots around one stretch of iterations. Of the first only the counts by type are kept: its graph is
/// dropped at once, before the stretch's baseline, so the iterations that follow neither carry nor count it.
/// </summary>
internal sealed class SnapshotPair
{
    private readonly IReadOnlyDictionary<string, TypeTotal> _before;
    private readonly TimeSpan _took;

    private SnapshotPair(IReadOnlyDictionary<string, TypeTotal> before, TimeSpan took)
    {
        _before = before;
        _took = took;
    }

    /// <summary>The first snapshot, or null with the reason there is none.</summary>
    public static (SnapshotPair? Pair, string? Problem) Before()
    {
        var snapshot = HeapSnapshot.TryTake(out var problem);
        return snapshot is null ? (null, problem) : (new SnapshotPair(snapshot.Types, snapshot.TakenIn), null);
    }

    /// <summary>The second snapshot and the diff by type over <paramref name="iterations"/>, or null with the reason.</summary>
    public (HeapDiff? Diff, string? Problem) After(int iterations, string pass, LeakOptions options)
    {
        var snapshot = HeapSnapshot.TryTake(out var problem);
        if (snapshot is null) return (null, problem);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var diff = HeapDiff.Between(_before, snapshot, iterations, pass, [.. options.AcceptedGrowth.Select(a => (a.TypeName, a.Reason))]);
        // Both snapshots and the paths' search, as the report says.
        return (diff with { TakenIn = _took + snapshot.TakenIn + clock.Elapsed }, null);
    }
}
