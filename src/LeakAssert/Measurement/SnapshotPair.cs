using LeakAssert.Snapshots;

namespace LeakAssert.Measurement;

/// <summary>
/// Heap snapshots around one stretch of iterations, and one in its middle. Of the first only the counts by type and the
/// objects' addresses are kept (the addresses in native memory), of the middle one only the addresses: their graphs are
/// dropped at once, so the iterations that follow neither carry nor count them. A session that follows objects as the GC
/// moves them runs from before the first to the last, so that the last can tell what the stretch gained.
/// </summary>
internal sealed class SnapshotPair : IDisposable
{
    private readonly IReadOnlyDictionary<string, TypeTotal> _before;
    private readonly TimeSpan _took;
    private readonly int _startIteration;
    private readonly ObjectIdentity? _identity;
    private readonly AddressSet? _old;
    private readonly string? _identityProblem;
    private AddressSet? _middle;
    private int _middleIteration;
    private TimeSpan _middleTook;

    private SnapshotPair(HeapSnapshot first, int startIteration, ObjectIdentity? identity, string? identityProblem)
    {
        _before = first.Types;
        _took = first.TakenIn;
        _startIteration = startIteration;
        _identity = identity;
        _identityProblem = identityProblem;
        _old = identity?.Keep(first.Graph);
    }

    /// <summary>The first snapshot, at <paramref name="startIteration"/>, or null with the reason there is none.</summary>
    public static (SnapshotPair? Pair, string? Problem) Before(int startIteration)
    {
        var identity = ObjectIdentity.TryStart(out var identityProblem);
        try
        {
            var snapshot = Take(out var problem);
            if (snapshot is not null) return (new SnapshotPair(snapshot, startIteration, identity, identityProblem), null);
            identity?.Dispose();
            return (null, problem);
        }
        catch (Exception e)
        {
            identity?.Dispose();
            return (null, Failed("the first heap snapshot", e));
        }
    }

    /// <summary>
    /// "building the last heap snapshot failed (InvalidOperationException: ...)": whatever a snapshot's reading or
    /// grouping throws costs what leaks, never the verdict, which rests on the checkpoints.
    /// </summary>
    private static string Failed(string what, Exception e) => $"{what} failed ({e.GetType().Name}: {e.Message.Split('\n', 2)[0].TrimEnd('.', ' ', '\r')})";

    private static HeapSnapshot? Take(out string? problem)
    {
        Sampling.Faults.BeforeSnapshot?.Invoke();
        return HeapSnapshot.TryTake(out problem);
    }

    /// <summary>
    /// The snapshot in the middle, after <paramref name="iteration"/>: its addresses say which of the objects gained by
    /// the end were already there halfway. Without it (it failed) the groups fall back to a steady count per iteration.
    /// Returns whether it was taken.
    /// </summary>
    public bool Middle(int iteration)
    {
        if (_identity is null || _middle is not null) return false;
        try
        {
            var snapshot = Take(out _);
            if (snapshot is null) return false;
            _middle = _identity.Keep(snapshot.Graph);
            _middleTook = snapshot.TakenIn;
        }
        catch (Exception)
        {
            // Without the middle the groups fall back to a steady count per iteration, as when it was not taken.
            return false;
        }
        _middleIteration = iteration;
        return true;
    }

    /// <summary>The last snapshot and the diff over <paramref name="iterations"/>, or null with the reason.</summary>
    public (HeapDiff? Diff, string? Problem) After(int iterations, string pass, LeakOptions options)
    {
        try
        {
            return TryAfter(iterations, pass, options);
        }
        catch (Exception e)
        {
            return (null, Failed("the last heap snapshot", e));
        }
    }

    private (HeapDiff? Diff, string? Problem) TryAfter(int iterations, string pass, LeakOptions options)
    {
        var snapshot = Take(out var problem);
        if (snapshot is null) return (null, problem);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var diff = HeapDiff.Between(_before, snapshot, iterations, pass, [.. options.AcceptedGrowth.Select(a => (a.TypeName, a.Reason))]);
        var leaksProblem = _identityProblem ?? _identity!.Follow(snapshot.Graph);
        if (leaksProblem is null)
        {
            var firstHalf = _middle is null ? 0 : _middleIteration - _startIteration;
            diff = diff.WithLeaks(snapshot.Leaks(_old!, _middle, iterations, firstHalf), _middle is not null,
                group => options.AcceptedGrowth.FirstOrDefault(a => a.Accepts(group))?.Reason);
        }
        else
        {
            diff = diff with { LeaksProblem = leaksProblem };
        }
        // All the snapshots and the grouping, as the report says.
        return (diff with { TakenIn = _took + _middleTook + snapshot.TakenIn + clock.Elapsed }, null);
    }

    public void Dispose() => _identity?.Dispose();
}
