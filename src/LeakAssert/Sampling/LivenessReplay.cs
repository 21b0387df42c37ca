namespace LeakAssert.Sampling;

/// <summary>
/// Follows sampled objects through the GCs using the runtime's survival and movement events: an object in a moved
/// range takes its new address, one in a surviving range stays, and one in condemned space that is in neither died.
/// The runtime emits, per GC: the generation ranges as they are at the start, then the moved and surviving ranges,
/// then the generation ranges at the end (ignored here).
/// </summary>
internal sealed class LivenessReplay
{
    private readonly List<ulong> _address = [];
    private readonly List<bool> _alive = [];
    private readonly List<(ulong Start, ulong End)> _condemned = [];
    private readonly List<(ulong Start, ulong End, ulong NewStart)> _moved = [];
    private readonly List<(ulong Start, ulong End)> _survived = [];
    private int _depth = -1;
    private bool _collectingRanges;

    /// <summary>Ephemeral GCs whose condemned space was not reported: an object they freed may look alive.</summary>
    public int GcsWithoutRanges { get; private set; }

    public int Count => _alive.Count;

    public bool IsAlive(int id) => _alive[id];

    /// <summary>Tracks a newly sampled object; returns its id.</summary>
    public int Allocated(ulong address)
    {
        _address.Add(address);
        _alive.Add(true);
        return _alive.Count - 1;
    }

    public void GcStarted(int condemnedGeneration)
    {
        _depth = condemnedGeneration;
        _collectingRanges = true;
        _condemned.Clear();
        _moved.Clear();
        _survived.Clear();
    }

    public void GenerationRange(int generation, ulong start, ulong reservedLength)
    {
        // Generations 3 and 4 (LOH, POH) are only condemned by a gen2 GC, which condemns everything anyway.
        if (_collectingRanges && generation <= _depth) _condemned.Add((start, start + reservedLength));
    }

    public void Moved(ulong oldStart, ulong newStart, ulong length)
    {
        _collectingRanges = false;
        _moved.Add((oldStart, oldStart + length, newStart));
    }

    public void Survived(ulong start, ulong length)
    {
        _collectingRanges = false;
        _survived.Add((start, start + length));
    }

    /// <summary>The GC's summary arrives after its ranges: the start-of-GC generation ranges are complete.</summary>
    public void HeapHistory() => _collectingRanges = false;

    public void GcEnded()
    {
        if (_depth < 0) return; // the trace began inside this GC
        var full = _depth >= 2;
        if (!full && _condemned.Count == 0) GcsWithoutRanges++;
        _moved.Sort((a, b) => a.Start.CompareTo(b.Start));
        _survived.Sort((a, b) => a.Start.CompareTo(b.Start));
        _condemned.Sort((a, b) => a.Start.CompareTo(b.Start));

        for (var id = 0; id < _alive.Count; id++)
        {
            if (!_alive[id]) continue;
            var address = _address[id];
            var m = Find(_moved, address, r => r.Start, r => r.End);
            if (m >= 0)
            {
                _address[id] = _moved[m].NewStart + (address - _moved[m].Start);
                continue;
            }
            if (Find(_survived, address, r => r.Start, r => r.End) >= 0) continue;
            if (full || Find(_condemned, address, r => r.Start, r => r.End) >= 0) _alive[id] = false;
        }
        _depth = -1;
        _collectingRanges = false;
    }

    // Ranges of one kind never overlap, so the last range starting at or below the address is the only candidate.
    private static int Find<T>(List<T> sorted, ulong address, Func<T, ulong> start, Func<T, ulong> end)
    {
        int lo = 0, hi = sorted.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (start(sorted[mid]) <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found >= 0 && address < end(sorted[found]) ? found : -1;
    }
}
