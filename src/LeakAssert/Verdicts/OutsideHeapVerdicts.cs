using LeakAssert.Measurement;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Verdicts;

/// <summary>
/// Verdicts on the counters outside the GC heap, on the heap's rule for a per-iteration bound: a counter fails only
/// when it rises steadily (<see cref="CounterSeries.IsRising"/>), so JIT code, caches and lazily loaded assemblies,
/// which grow in a step or two and stop, pass. Every heap verdict brings the defaults along: steady growth in
/// assemblies, threads, handles or native memory fails a leak test whatever its heap bound.
/// </summary>
internal static class OutsideHeapVerdicts
{
    /// <summary>The verdicts every leak assertion adds to its own; on a profile too short to decide, or not measured, they pass.</summary>
    public static IEnumerable<Verdict> Defaults(LeakProfile p)
    {
        yield return Assemblies(p, strict: false);
        yield return Threads(p, strict: false);
        yield return Handles(p, strict: false);
        yield return NativePerIteration(p, ByteSize.Zero.PerIteration(), strict: false);
    }

    /// <summary>Fails when loaded assemblies or live load contexts rise steadily; names the new assemblies.</summary>
    public static Verdict Assemblies(LeakProfile p, bool strict = true)
    {
        const string expected = "no steady growth in loaded assemblies or assembly load contexts";
        if (Undecided(p, strict) is { } undecided) return Decide(undecided, expected);
        var o = p.OutsideHeap!;
        if (o.Assemblies.IsRising)
            return Decide(false, expected, $"{Rising(o.Assemblies, "loaded assemblies")}: {NewAssemblies(o)}{HeldByTheRuntime(o)}");
        if (o.LoadContexts.IsRising)
            return Decide(false, expected, $"{Rising(o.LoadContexts, "kept assembly load contexts alive")}: a collectible context is freed only once it is unloaded and nothing refers to it");
        return Decide(true, expected, $"gained {Count(o.Assemblies.Total)} assemblies and {Count(o.LoadContexts.Total)} load contexts, not a steady rise");
    }

    /// <summary>Fails when OS threads beyond the thread pool's rise steadily; names the new ones (Linux).</summary>
    public static Verdict Threads(LeakProfile p, bool strict = true)
    {
        const string expected = "no steady growth in threads (beyond the thread pool's)";
        if (Undecided(p, strict) is { } undecided) return Decide(undecided, expected);
        var o = p.OutsideHeap!;
        if (!o.Threads.IsRising)
            return Decide(true, expected, $"gained {Count(o.Threads.Total)} threads, not a steady rise");
        var names = o.NewThreads.Count == 0 ? "" : ": " + NewThreads(o);
        return Decide(false, expected, Rising(o.Threads, "started threads that kept running") + names);
    }

    /// <summary>Fails when open handles (file descriptors) rise steadily.</summary>
    public static Verdict Handles(LeakProfile p, bool strict = true)
    {
        const string expected = "no steady growth in open handles";
        if (Undecided(p, strict, s => s.Handles) is { } undecided) return Decide(undecided, expected);
        var o = p.OutsideHeap!;
        return o.Handles.IsRising
            ? Decide(false, expected, Rising(o.Handles, "kept handles open"))
            : Decide(true, expected, $"gained {Count(o.Handles.Total)} handles, not a steady rise");
    }

    /// <summary>Compares native memory's growth from the baseline to the last measured checkpoint with <paramref name="bound"/>.</summary>
    public static Verdict NativeTotal(LeakProfile p, ByteSize bound)
    {
        var expected = Inv($"at most {bound} of native memory growth over {Count(p.Iterations)} iterations");
        if (p.OutsideHeap is not { } o) return Decide(false, expected, NotMeasured);
        if (!o.NativeMemory.IsMeasured) return Decide(false, expected, NotMeasuredHere(o.NativeMemory));
        var total = new ByteSize(o.NativeMemory.Total);
        return total <= bound
            ? Decide(true, expected, $"grew {total}, within the bound")
            : Decide(false, expected, $"grew {total}, more than the bound");
    }

    /// <summary>Fails when native memory rises steadily by more than <paramref name="bound"/> per iteration, beyond its noise floor.</summary>
    public static Verdict NativePerIteration(LeakProfile p, PerIterationBound bound, bool strict = true)
    {
        // The default asks for no steady growth at all; its floor is what keeps it from failing on JIT and arenas.
        var expected = strict
            ? Inv($"at most {bound.Size} of native memory growth per iteration")
            : Inv($"no steady growth in native memory (beyond its {Bytes(OutsideHeap.NativeNoiseFloorBytes)} noise floor)");
        if (Undecided(p, strict, s => s.NativeMemory) is { } undecided) return Decide(undecided, expected);
        var native = p.OutsideHeap!.NativeMemory;
        var g = native.Growth;
        if (native.RisesSteadilyAbove(bound.Size.Bytes))
            return Decide(false, expected, Inv($"grew native memory by {Bytes(g.SlopeBytesPerIteration)} per iteration ({Bytes(native.Total)} over {Count(g.Iterations)} iterations), still rising at the end (99% lower bounds: {Bytes(g.SlopeLowerBound99)} over the run, {Bytes(g.TailSlopeLowerBound99)} over its second half)"));
        return Decide(true, expected, Inv($"grew native memory by {Bytes(native.Total)}, not steadily beyond the {Bytes(g.NoiseFloor)} noise floor and the bound with 99% confidence"));
    }

    private const string NotMeasured = "was not measured outside the GC heap";

    // "was not measured on this platform: macOS does not give this process's handles".
    private static string NotMeasuredHere(CounterSeries s) => $"was not measured on this platform: {s.NotMeasured}";

    // Why a verdict cannot be decided (a strict one then fails, a default passes), or null when it can.
    private static (bool Passed, string Finding)? Undecided(LeakProfile p, bool strict, Func<OutsideHeap, CounterSeries>? counter = null)
    {
        if (p.OutsideHeap is not { } o) return (!strict, NotMeasured);
        if (counter?.Invoke(o) is { IsMeasured: false } unmeasured) return (!strict, NotMeasuredHere(unmeasured));
        // Every counter is read at the same checkpoints: one's count is all's.
        if (!o.Threads.IsDecidable)
            return (!strict, Inv($"had only {Count(o.Threads.Readings.Count)} checkpoints over {Count(p.Iterations)} iterations, too few to tell steady growth from a one-off step: it needs at least {Count(GrowthFit.MinCheckpointsForTrend - 1)} iterations"));
        return null;
    }

    private static Verdict Decide((bool Passed, string Finding) outcome, string expected) => Decide(outcome.Passed, expected, outcome.Finding);

    private static Verdict Decide(bool passed, string expected, string finding) => new(passed, expected, finding) { ConcernsOutsideHeap = true };

    // "loaded assemblies at 1 per iteration, still rising at the end (300 over 300 iterations; 99% lower bound 1)".
    private static string Rising(CounterSeries s, string did) =>
        Inv($"{did} at {Rate(s.Growth.SlopeBytesPerIteration)} per iteration, still rising at the end ({Count(s.Total)} over {Count(s.Growth.Iterations)} iterations; 99% lower bound {Rate(s.Growth.SlopeLowerBound99)})");

    // What holds a dynamic assembly that is not collectible is the runtime itself: no heap path leads to it.
    private static string HeldByTheRuntime(OutsideHeap o) =>
        o.NewAssemblies.Any(a => a.IsDynamic && !a.IsCollectible)
            ? "; a dynamic assembly that is not collectible is kept by the runtime for the life of the process, so generate it once and reuse it, or define it with AssemblyBuilderAccess.RunAndCollect"
            : "";

    /// <summary>"300 x GeneratedSerializer (dynamic, load context "Default")", most first, as far as the run kept them.</summary>
    internal static string NewAssemblies(OutsideHeap o) =>
        o.NewAssemblies.Count == 0
            ? "none by name (the count rose as assemblies came and went)"
            : string.Join(", ", o.NewAssemblies.Select(a =>
                Inv($"{Count(a.Count)} x {a.Name} ({(a.IsDynamic ? "dynamic, " : "")}{(a.IsCollectible ? "collectible, " : "")}load context \"{a.LoadContext}\")")));

    /// <summary>"300 x "LeakyWorker"", most first, as far as the run kept them.</summary>
    internal static string NewThreads(OutsideHeap o) => string.Join(", ", o.NewThreads.Select(t => Inv($"{Count(t.Count)} x \"{t.Name}\"")));
}
