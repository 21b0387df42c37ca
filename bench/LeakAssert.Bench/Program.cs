using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LeakAssert;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

// Measures accuracy and cost of Leak.Profile and prints Markdown tables. Medians and ratios, never single times.
// Usage: dotnet run --project bench/LeakAssert.Bench -c Release [-- --runs N]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var runs = args.Length == 2 && args[0] == "--runs" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
Console.WriteLine($"# LeakAssert core benchmark ({runs} runs a row; {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores)");
Console.WriteLine();

// 1. Exact retained growth of a known leak: 2,000 x 1,024 bytes into a list whose capacity is reserved.
var exactErrors = Repeat(runs, () =>
{
    var p = Leak.Profile(Sinks.Remember1K, 2_000, new LeakOptions { AttributionBudget = TimeSpan.Zero });
    Sinks.Clear();
    return (double)(p.RetainedGrowth.Bytes - 2_000 * 1_024);
});
Console.WriteLine("## Exact retained growth (known leak of 2,048,000 B)");
Console.WriteLine("| median error | median abs error | worst abs error |");
Console.WriteLine("|---:|---:|---:|");
Console.WriteLine($"| {exactErrors.Median():F0} B | {exactErrors.Select(Math.Abs).Median():F0} B | {exactErrors.Max(Math.Abs):F0} B |");
Console.WriteLine();

// 2. Sampled inuse_space of the diff against the true leak, and whether top's first row is the leaking method.
Console.WriteLine("## Sampled inuse_space of the diff (no extra attribution iterations)");
Console.WriteLine("| leak | mean samples | mean error | median abs error | worst abs error | top row 1 correct |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (label, iterations) in new[] { ("1 MB", 1_024), ("10 MB", 10_240) })
{
    var results = Repeat(runs, () =>
    {
        var p = Leak.Profile(Sinks.Remember1K, iterations, new LeakOptions { AttributionBudget = TimeSpan.Zero });
        Sinks.Clear();
        var diff = p.Profiles!.Diff;
        var truth = iterations * 1_024.0;
        var top = Top.Of(diff, SampleValue.InuseSpace);
        var correct = top.Rows.Count > 0 && top.Rows[0].Function.EndsWith("Sinks.Remember1K", StringComparison.Ordinal);
        return (Error: (diff.Total(SampleValue.InuseSpace) - truth) / truth, Samples: diff.SampleCount(SampleValue.InuseSpace), Correct: correct);
    });
    var errors = results.Select(r => r.Error).ToList();
    Console.WriteLine($"| {label} | {results.Average(r => r.Samples):F1} | {errors.Average():+0.0%;-0.0%} | {errors.Select(Math.Abs).Median():0.0%} | {errors.Max(Math.Abs):0.0%} | {results.Count(r => r.Correct)}/{runs} |");
}
Console.WriteLine();

// 3. Fixed cost of one call: a one-iteration empty workload, warm, with and without the sampled profile.
Console.WriteLine("## Fixed cost of one Leak.Profile call (empty workload, 1 iteration, warm)");
Console.WriteLine("| sampling | median | p90 |");
Console.WriteLine("|---|---:|---:|");
foreach (var sampling in new[] { true, false })
{
    Leak.Profile(() => { }, 1, new LeakOptions { Sampling = sampling, Checkpoints = 2 });
    var times = Repeat(runs, () => Leak.Profile(() => { }, 1, new LeakOptions { Sampling = sampling, Checkpoints = 2 }).Elapsed.TotalMilliseconds);
    Console.WriteLine($"| {(sampling ? "on" : "off")} | {times.Median():F0} ms | {times.Percentile(0.9):F0} ms |");
}
Console.WriteLine();

// 4. Detection of small per-iteration leaks by the exact per-iteration verdict (bound: half the leak).
Console.WriteLine("## Small leaks flagged by NotRetainMoreThan(bound.PerIteration())");
Console.WriteLine("| leak per iteration | iterations | bound | flagged |");
Console.WriteLine("|---:|---:|---:|---:|");
foreach (var (size, iterations) in new[] { (24, 2_000), (24, 10_000), (64, 2_000), (64, 10_000) })
{
    var flagged = Repeat(Math.Max(5, runs / 2), () =>
    {
        Action leak = size == 24 ? Sinks.RememberObject : Sinks.Remember64;
        var p = Leak.Profile(leak, iterations, new LeakOptions { AttributionBudget = TimeSpan.Zero, Sampling = false });
        Sinks.Clear();
        return Flags(p, (size / 2).Bytes().PerIteration()) ? 1.0 : 0.0;
    });
    Console.WriteLine($"| {size} B | {iterations:N0} | {size / 2} B | {flagged.Sum():F0}/{flagged.Count} |");
}

Console.WriteLine();

// 5. Non-leaks must not be flagged: heavy garbage and a cache that fills then plateaus (bound 16 B per iteration).
Console.WriteLine("## Non-leaks flagged by NotRetainMoreThan(16.Bytes().PerIteration()) (false positives)");
Console.WriteLine("| workload | iterations | flagged |");
Console.WriteLine("|---|---:|---:|");
foreach (var (name, make) in new (string, Func<Action>)[] { ("50 kB garbage per iteration", () => Sinks.Churn), ("cache of 1,000 entries filling, then hits", () => new BoundedCache().Get) })
{
    var flagged = Repeat(Math.Max(5, runs / 2), () =>
    {
        var p = Leak.Profile(make(), 4_000, new LeakOptions { AttributionBudget = TimeSpan.Zero, Sampling = false, Warmup = 100 });
        return Flags(p, 16.Bytes().PerIteration()) ? 1.0 : 0.0;
    });
    Console.WriteLine($"| {name} | 4,000 | {flagged.Sum():F0}/{flagged.Count} |");
}

static bool Flags(LeakProfile p, PerIterationBound bound)
{
    try { p.Should().NotRetainMoreThan(bound); return false; }
    catch (FluentAssertions.Execution.AssertionFailedException) { return true; }
}

static List<T> Repeat<T>(int n, Func<T> measure)
{
    var results = new List<T>(n);
    for (var i = 0; i < n; i++) results.Add(measure());
    return results;
}

static class Sinks
{
    private static readonly List<object> Sink = new(capacity: 1_000_000);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Remember1K() => Sink.Add(new byte[1_000]);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Remember64() => Sink.Add(new byte[40]);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RememberObject() => Sink.Add(new object());

    public static void Clear() => Sink.Clear();

    private static byte[]? _last; // escapes, so the JIT cannot stack-allocate the garbage

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Churn()
    {
        for (var i = 0; i < 50; i++) _last = new byte[1_000];
    }
}

sealed class BoundedCache
{
    private readonly Dictionary<int, byte[]> _entries = [];
    private int _next;

    public void Get()
    {
        var key = _next++ % 1_000;
        if (!_entries.ContainsKey(key)) _entries[key] = new byte[512];
    }
}

static class Stats
{
    public static double Median(this IEnumerable<double> values) => values.Percentile(0.5);

    public static double Percentile(this IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        var rank = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
