using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Dataflow;

namespace LeakAssert.Bench;

/// <summary>
/// False positives on growth that stops: caches and collections that grow in the measured pass, in doubling steps
/// and steadily, then level off before its end. Each runs sync (<c>Leak.Profile</c>) and async
/// (<c>Leak.ProfileAsync</c>, the work then <c>await Task.Yield()</c>). The schedules count the 200 warmup
/// iterations: every workload stops growing between measured iterations 1,300 and 1,470 of 2,000, inside the second
/// half that the tail fit reads, so the last quarter of the measured pass (from iteration 1,500) grows by nothing.
/// </summary>
internal static class BoundedGrowth
{
    public const string Heading = "## False positives: bounded growth";
    public const int Iterations = 2_000;
    public const int Warmup = 200;

    public sealed record Row(string Name, bool Async, Func<Action> Make);

    public sealed record Result(Row Row, int Runs, int Flagged, string? TypicalFinding, double MedianGrowth, double MedianLastQuarter, string Trends, double MedianTailLowerBound, int RisingInMeasuredPass, string? TypicalPass, int RisingPassed);

    private static readonly (string Name, Func<Action> Make)[] Workloads =
    [
        ($"a `ConditionalWeakTable` cache over {WeakTableCache.Keys:N0} long-lived keys, {WeakTableCache.PerIteration} an iteration (full at measured iteration {FullAt(WeakTableCache.Keys, WeakTableCache.PerIteration):N0})",
            () => new WeakTableCache().Get),
        ($"a `List<byte[]>` grown to {GrowingList.Items:N0} items, {GrowingList.PerIteration} an iteration (full at {FullAt(GrowingList.Items, GrowingList.PerIteration):N0})",
            () => new GrowingList().Add),
        ($"a `Dictionary<int, string>` grown to {GrowingDictionary.Keys:N0} keys, {GrowingDictionary.PerIteration} an iteration, resizing (full at {FullAt(GrowingDictionary.Keys, GrowingDictionary.PerIteration):N0})",
            () => new GrowingDictionary().Get),
        ($"`DataflowBlock.AsObservable(source)` over {ObservedBlocks.Blocks:N0} blocks, {ObservedBlocks.PerIteration} an iteration (its weak per-source cache; full at {FullAt(ObservedBlocks.Blocks, ObservedBlocks.PerIteration):N0})",
            () => new ObservedBlocks().Get),
    ];

    /// <summary>The measured iteration after which a workload that adds <paramref name="perIteration"/> of <paramref name="count"/> an iteration stops growing.</summary>
    private static int FullAt(int count, int perIteration) => (count + perIteration - 1) / perIteration - Warmup;

    public static IReadOnlyList<Row> Rows { get; } =
        Workloads.SelectMany(w => new[] { new Row(w.Name, false, w.Make), new Row(w.Name, true, w.Make) }).ToList();

    /// <summary>One profile of the row's workload, made fresh, with the false-positive table's options.</summary>
    public static LeakProfile Profile(Row row, int checkpoints)
    {
        var work = row.Make();
        var options = new LeakOptions { Sampling = SamplingMode.Off, Warmup = Warmup, Checkpoints = checkpoints };
        return row.Async
            ? Leak.ProfileAsync(async () => { work(); await Task.Yield(); }, Iterations, options).GetAwaiter().GetResult()
            : Leak.Profile(work, Iterations, options);
    }

    /// <summary>
    /// Runs a row <paramref name="runs"/> times at <c>NotRetainMoreThan(0.Bytes().PerIteration())</c>; every flagged
    /// run's finding goes to stderr, and its whole failure message and checkpoints to <paramref name="log"/>.
    /// </summary>
    public static Result Measure(Row row, int runs, int checkpoints, TextWriter log)
    {
        var flagged = 0;
        string? typical = null;
        var growth = new List<double>();
        var lastQuarter = new List<double>();
        var trends = new Dictionary<string, int>();
        var tailLowerBounds = new List<double>();
        var rising = 0;
        var risingPassed = 0;
        string? typicalPass = null;
        for (var run = 0; run < runs; run++)
        {
            var p = Profile(row, checkpoints);
            growth.Add(p.RetainedGrowth.Bytes);
            var trend = p.Growth.Trend + (p.Growth.SetAside is null ? "" : ", a step set aside");
            trends[trend] = trends.GetValueOrDefault(trend) + 1;
            tailLowerBounds.Add(p.Growth.TailSlopeLowerBound99);
            // What the measured pass alone says (the verdict's first test); the repeat pass may then refute it.
            var risingHere = p.Growth.ExceedsWhileRising(0);
            if (risingHere) rising++;
            var quarter = p.Checkpoints.MinBy(c => Math.Abs(c.Iteration - 0.75 * p.Iterations));
            lastQuarter.Add(p.Checkpoints[^1].RetainedBytes - quarter.RetainedBytes);
            if (run == 0) log.WriteLine($"[{Label(row)}] run 1 checkpoints (iteration: growth from baseline): {Series(p)}");
            if (Failure(p) is not { } message)
            {
                // The verdict's own words on a pass (internal: the failure message is the public form of a fail).
                if (risingHere)
                {
                    risingPassed++;
                    typicalPass ??= Verdicts.Verdict.PerIteration(p, 0.Bytes().PerIteration()).Finding;
                }
                continue;
            }
            flagged++;
            var finding = Finding(message);
            typical ??= finding;
            Console.Error.WriteLine($"FLAGGED [{Label(row)}] run {run + 1}/{runs}: {finding}");
            log.WriteLine($"===== FLAGGED [{Label(row)}] run {run + 1}/{runs}");
            log.WriteLine($"checkpoints: {Series(p)}");
            if (p.RepeatPassCheckpoints.Count > 0) log.WriteLine($"repeat pass: {string.Join(", ", p.RepeatPassCheckpoints.Select(c => $"{c.Iteration}: {c.RetainedBytes - p.Checkpoints[0].RetainedBytes}"))}");
            log.WriteLine(message);
            log.Flush();
        }
        return new Result(row, runs, flagged, typical, growth.Median(), lastQuarter.Median(),
            string.Join("; ", trends.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value}")), tailLowerBounds.Median(), rising, typicalPass, risingPassed);
    }

    public static string Label(Row row) => $"{row.Name}, {(row.Async ? "async" : "sync")}";

    /// <summary>The assertion's failure message, or null when the run passes.</summary>
    public static string? Failure(LeakProfile p)
    {
        try { p.Should().NotRetainMoreThan(0.Bytes().PerIteration()); return null; }
        catch (FluentAssertions.Execution.AssertionFailedException e) { return e.Message; }
    }

    /// <summary>What the verdict said: the first line's "but it ..." clause.</summary>
    public static string Finding(string message)
    {
        var first = message.Split('\n')[0].Trim();
        var at = first.IndexOf(", but it ", StringComparison.Ordinal);
        return at < 0 ? first : first[(at + ", but it ".Length)..].TrimEnd('.');
    }

    private static string Series(LeakProfile p) =>
        string.Join(", ", p.Checkpoints.Select(c => $"{c.Iteration}: {c.RetainedBytes - p.Checkpoints[0].RetainedBytes}"));

    /// <summary>The section --bounded writes: a row per workload and form, the flagged runs and what the verdict said of one.</summary>
    public static string Section(IReadOnlyList<Result> results, int runs, int checkpoints, string commit, TimeSpan took)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var md = new Markdown(text);
        md.Line(Heading);
        md.Line($"Measured at commit `{commit}` (the verdict as it stands there), {DateTime.UtcNow:yyyy-MM-dd}; reproduce:");
        md.Line($"`dotnet run -c Release --project bench/LeakAssert.Bench -- --bounded {runs}{(checkpoints == new LeakOptions().Checkpoints ? "" : $" --checkpoints {checkpoints}")}`");
        md.Line("(flagged runs' findings go to stderr; their whole failure messages and checkpoints to the log it names).");
        md.Line();
        md.Line($"Runs flagged by `NotRetainMoreThan(0.Bytes().PerIteration())` on workloads whose growth stops inside the measured pass:");
        md.Line($"{Iterations:N0} measured iterations after a warmup of {Warmup}, sampling off, {checkpoints} checkpoints; each workload made fresh a run.");
        md.Line("Sync is `Leak.Profile(work, 2000, options)`; async is `Leak.ProfileAsync(async () => { work(); await Task.Yield(); }, 2000, options)`.");
        md.Line("\"full at\" counts measured iterations; the last quarter (from iteration 1,500) adds nothing, as its median shows.");
        md.Line("The trend is the exact growth fit's (`LeakProfile.Growth`: Flat, Plateau or Rising, and whether a one-off step was set aside);");
        md.Line("\"rising in the measured pass\" counts runs whose measured checkpoints alone fail the bound (both 99% slope lower bounds, over the");
        md.Line("run and its second half, above 0 B and beyond the noise floor); the verdict then reads the repeat pass, which refutes growth that does not come back.");
        md.Line();
        md.Line("| workload | form | runs | flagged | median growth | median growth, last quarter | trend (runs) | median 99% lower bound, second half's slope | rising in the measured pass | what the verdict said of a flagged run, or else of a rising run it passed |");
        md.Line("|---|---|---:|---:|---:|---:|---|---:|---:|---|");
        foreach (var r in results)
            md.Line($"| {r.Row.Name} | {(r.Row.Async ? "async" : "sync")} | {r.Runs:N0} | {r.Flagged} | {ByteSize.Format(r.MedianGrowth)} | {ByteSize.Format(r.MedianLastQuarter)} | {r.Trends} | {r.MedianTailLowerBound:F1} B | {r.RisingInMeasuredPass} | {Cell(r)} |");
        md.Line($"| **all** | | **{results.Sum(r => r.Runs):N0}** | **{results.Sum(r => r.Flagged)}** | | | | | **{results.Sum(r => r.RisingInMeasuredPass)}** | |");
        md.Line();
        var rising = results.Sum(r => r.RisingInMeasuredPass);
        var refuted = results.Sum(r => r.RisingPassed);
        md.Line($"{rising:N0} of {results.Sum(r => r.Runs):N0} runs were rising in the measured pass alone; the repeat pass refuted {refuted:N0} of them, so they passed.");
        md.Line($"Took {took.TotalMinutes:F1} minutes.{Load()}");
        md.Line();
        return text.ToString();
    }

    private static string Cell(Result r) =>
        (r.TypicalFinding is { } f ? $"flagged: {f}" : r.TypicalPass is { } p ? $"passed: {p}" : "none flagged; none rising").Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary><paramref name="document"/> with this section replaced, or, the first time, placed after the false-positive table.</summary>
    public static string Into(string document, string section)
    {
        if (document.Contains(Heading + "\n", StringComparison.Ordinal)) return HeapSizeCost.Replace(document, Heading, section);
        var at = document.IndexOf("## False positives\n", StringComparison.Ordinal);
        var next = at < 0 ? -1 : document.IndexOf("\n## ", at + 1, StringComparison.Ordinal);
        return next < 0 ? HeapSizeCost.Replace(document, Heading, section) : document[..(next + 1)] + section + document[(next + 1)..];
    }

    /// <summary>The document's section under <see cref="Heading"/> as --bounded measured it, or null.</summary>
    public static string? Measured(string document)
    {
        var at = document.IndexOf(Heading + "\n", StringComparison.Ordinal);
        if (at < 0) return null;
        var next = document.IndexOf("\n## ", at + Heading.Length, StringComparison.Ordinal);
        return next < 0 ? document[at..] : document[at..(next + 1)];
    }

    public static string Commit(string root)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", ["-C", root, "rev-parse", "--short", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            using var status = Process.Start(new ProcessStartInfo("git", ["-C", root, "status", "--porcelain", "--", "src"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var dirty = status.StandardOutput.ReadToEnd().Trim().Length > 0;
            status.WaitForExit();
            return git.ExitCode == 0 ? head + (dirty ? " with src/ changed" : "") : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? $" Load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores." : "";
}

/// <summary>A ConditionalWeakTable keyed by a fixed pool of long-lived keys, filled as iterations go: the table's container doubles, then every lookup hits.</summary>
internal sealed class WeakTableCache
{
    public const int Keys = 3_000;
    public const int PerIteration = 2;
    private readonly object[] _keys = Enumerable.Range(0, Keys).Select(_ => new object()).ToArray();
    private readonly ConditionalWeakTable<object, byte[]> _table = new();
    private int _next;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Get()
    {
        for (var j = 0; j < PerIteration; j++)
            GC.KeepAlive(_table.GetValue(_keys[_next++ % Keys], static _ => new byte[64]));
    }
}

/// <summary>A list that grows to a fixed size (its array doubling on the way, the last time into the large object heap), then stops.</summary>
internal sealed class GrowingList
{
    public const int Items = 10_000;
    public const int PerIteration = 6;
    private readonly List<byte[]> _items = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Add()
    {
        for (var j = 0; j < PerIteration && _items.Count < Items; j++) _items.Add(new byte[16]);
    }
}

/// <summary>A memo of a few thousand keys: the dictionary resizes a few times as it fills, then every lookup hits.</summary>
internal sealed class GrowingDictionary
{
    public const int Keys = 3_000;
    public const int PerIteration = 2;
    private readonly Dictionary<int, string> _entries = [];
    private int _next;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Get()
    {
        for (var j = 0; j < PerIteration; j++)
        {
            var key = _next++ % Keys;
            if (!_entries.ContainsKey(key)) _entries[key] = key.ToString(CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>
/// A framework call with a weak per-instance cache of its argument: <c>DataflowBlock.AsObservable(source)</c> keeps
/// one observable per source block in a ConditionalWeakTable (about 2.7 kB each) and returns it again on later calls.
/// </summary>
internal sealed class ObservedBlocks
{
    public const int Blocks = 1_500;
    public const int PerIteration = 1;
    private readonly BufferBlock<int>[] _blocks = Enumerable.Range(0, Blocks).Select(_ => new BufferBlock<int>()).ToArray();
    private int _next;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Get()
    {
        for (var j = 0; j < PerIteration; j++) GC.KeepAlive(DataflowBlock.AsObservable(_blocks[_next++ % Blocks]));
    }
}
