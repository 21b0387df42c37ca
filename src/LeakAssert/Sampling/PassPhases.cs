using System.Diagnostics;

namespace LeakAssert.Sampling;

/// <summary>
/// Where a traced pass spends its time and its managed allocations: start, stop (with the rundown), reading the rest of
/// the stream, parsing and resolving. Kept per session so the benchmark can show each phase; nothing reads it at run
/// time. Allocations are process-wide, because the session's pump thread and the stop's task allocate too.
/// </summary>
internal sealed class PassPhases
{
    private readonly List<Phase> _phases = [];

    /// <summary>The phases in the order they ran.</summary>
    public IReadOnlyList<Phase> All => _phases;

    /// <summary>The span of the rundown's events inside the stop, from their own timestamps; zero when none came.</summary>
    public TimeSpan Rundown { get; set; }

    /// <summary>Events in the trace, and how many of them the rundown wrote.</summary>
    public (int All, int Rundown) Events { get; set; }

    /// <summary>The trace's size on disk.</summary>
    public long TraceBytes { get; set; }

    public T Measure<T>(string name, Func<T> work)
    {
        var bytes = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        var result = work();
        _phases.Add(new Phase(name, Stopwatch.GetElapsedTime(start), GC.GetTotalAllocatedBytes(precise: true) - bytes));
        return result;
    }

    public void Measure(string name, Action work) => Measure(name, () => { work(); return 0; });

    public readonly record struct Phase(string Name, TimeSpan Time, long AllocatedBytes);
}
