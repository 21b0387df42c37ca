using LeakAssert.Sampling;
using Microsoft.Diagnostics.Tracing;

namespace LeakAssert.Snapshots;

/// <summary>
/// Tells, in a later heap dump, the objects that already existed at an earlier one. A dump names objects by address,
/// and the forced collections between two dumps compact the heap (a collection asked not to compact still did, in
/// every one measured), so addresses alone would call most old objects new. A session that records each GC's moved
/// ranges runs from before the first dump to the last, and every dump's addresses are carried through the moves that
/// came after it (docs/OBJECT-IDENTITY.md).
/// </summary>
internal sealed class ObjectIdentity : IDisposable
{
    private readonly DirectoryInfo _directory;
    private readonly EventPipeRecorder _recorder;
    private readonly List<AddressSet> _sets = [];

    private ObjectIdentity(DirectoryInfo directory, EventPipeRecorder recorder)
    {
        _directory = directory;
        _recorder = recorder;
    }

    /// <summary>Starts recording moves, or returns null with the reason it could not.</summary>
    public static ObjectIdentity? TryStart(out string? problem)
    {
        var directory = SamplingSession.TryNewFolder(out problem);
        var recorder = directory is null ? null : EventPipeRecorder.TryStartMovements(directory.FullName, new PassPhases(), out problem);
        if (recorder is not null) return new ObjectIdentity(directory!, recorder);
        problem = "the session that follows objects between heap snapshots did not start: " + problem;
        if (directory is not null) SamplingSession.DeleteFolder(directory);
        return null;
    }

    /// <summary>Keeps the addresses of a dump's objects, to be followed through the GCs after it.</summary>
    public AddressSet Keep(HeapGraph dump)
    {
        var set = AddressSet.Of(dump);
        _sets.Add(set);
        return set;
    }

    /// <summary>
    /// Stops recording and moves every kept set through the GCs after its own dump's, up to and including the GC of
    /// <paramref name="last"/>: a dump reports its objects where its GC left them. Returns null, or why the sets cannot
    /// be trusted (then no object can be told new from old).
    /// </summary>
    public string? Follow(HeapGraph last)
    {
        if (!_recorder.TryStop(out var failure)) return "the session that follows objects between heap snapshots failed: " + failure;
        var until = last.DumpGc;
        var ranges = new List<(ulong Old, ulong New, ulong Length)>();
        var first = int.MaxValue;
        var gc = -1;
        long lost;
        using (var source = new EventPipeEventSource(_recorder.TracePath))
        {
            var clr = source.Clr;
            clr.GCStart += e =>
            {
                gc = e.Count;
                first = Math.Min(first, gc);
                ranges.Clear();
            };
            clr.GCBulkMovedObjectRanges += m =>
            {
                if (gc < 0 || gc > until) return;
                for (var i = 0; i < m.Count; i++)
                {
                    var v = m.Values(i);
                    ranges.Add((v.OldRangeBase, v.NewRangeBase, v.RangeLength));
                }
            };
            clr.GCStop += e =>
            {
                if (e.Count > until) return;
                foreach (var set in _sets)
                    if (e.Count > set.DumpGc) set.Move(ranges);
                ranges.Clear();
            };
            source.Process();
            lost = source.EventsLost;
        }
        if (lost > 0) return $"the session that follows objects between heap snapshots lost {lost} events";
        if (_sets.Count > 0 && first > _sets.Min(s => s.DumpGc))
            return "the session that follows objects between heap snapshots missed the first snapshot's GC";
        return null;
    }

    public void Dispose()
    {
        _recorder.Dispose();
        foreach (var set in _sets) set.Dispose();
        _sets.Clear();
        SamplingSession.DeleteFolder(_directory);
    }
}
