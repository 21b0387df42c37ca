using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LeakAssert;
using LeakAssert.Bench;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

// Measures LeakAssert's verdict (detection power, false positives), attribution and cost, and prints Markdown tables
// to the console and to docs/BENCHMARKS.md. Medians and ratios, never single times.
// Usage: dotnet run --project bench/LeakAssert.Bench -c Release [-- --runs N] [--out PATH] [--adapters | --outside-heap | --snapshots [--gcdump PATH] | --traced | --heap-size [--heap-mb 0,100,500,1536] | --exact [--checkpoints N] | --bounded N [--log PATH] | --detect64 N]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var runs = Arg("--runs", 100);
const string ExactGrowthHeading = "## Exact retained growth";
// --checkpoints N: the exact-growth, detection and false-positive tables at N checkpoints (the count a large heap gets is 6).
var checkpoints = Arg("--checkpoints", new LeakOptions().Checkpoints);
// --adapters: what [LeakTest] adds to a test run's wall time, in child `dotnet test` runs (docs/BENCHMARKS-ADAPTERS.md).
if (args.Contains("--adapters"))
{
    var table = AdapterCost.Run(RepositoryRoot(), Arg("--runs", 5));
    Console.Write(table);
    File.WriteAllText(ArgText("--out", null) ?? Path.Combine(RepositoryRoot(), "docs", "BENCHMARKS-ADAPTERS.md"), table);
    return;
}
// --outside-heap: the noise floor of the counters outside the GC heap, and the leaks of each kind (docs/BENCHMARKS-OUTSIDE-HEAP.md).
if (OutsideHeapNoise.TryRunChild(args)) return;
if (args.Contains("--outside-heap"))
{
    var table = OutsideHeapNoise.Run(Arg("--runs", 20));
    Console.Write(table);
    File.WriteAllText(ArgText("--out", null) ?? Path.Combine(RepositoryRoot(), "docs", "BENCHMARKS-OUTSIDE-HEAP.md"), table);
    return;
}
var output = ArgText("--out", null) ?? Path.Combine(RepositoryRoot(), "docs", "BENCHMARKS.md");
// --snapshots: a heap snapshot against dotnet-gcdump on this same process; replaces the "Heap snapshots" section only.
if (args.Contains("--snapshots"))
{
    var section = SnapshotCost.Run(Arg("--runs", 5), SnapshotCost.FindGcdump(ArgText("--gcdump", null)));
    Console.Write(section);
    File.WriteAllText(output, SnapshotCost.Into(File.Exists(output) ? File.ReadAllText(output) : "", section));
    Console.WriteLine($"Wrote {output}");
    return;
}
// --traced: the traced pass phase by phase; replaces the "Traced pass" section only.
if (args.Contains("--traced"))
{
    var section = TracedPassCost.Run(Arg("--runs", 10));
    Console.Write(section);
    File.WriteAllText(output, TracedPassCost.Into(File.Exists(output) ? File.ReadAllText(output) : "", section));
    Console.WriteLine($"Wrote {output}");
    return;
}
// --heap-size: a no-op leak test against one full GC of live heaps up to 1.5 GB; replaces its own section only.
if (args.Contains("--heap-size"))
{
    var megabytes = (ArgText("--heap-mb", null) ?? "0,100,500,1536").Split(',').Select(m => long.Parse(m, CultureInfo.InvariantCulture) << 20).ToList();
    var section = HeapSizeCost.Run(Arg("--runs", 5), megabytes);
    Console.Write(section);
    File.WriteAllText(output, HeapSizeCost.Replace(File.Exists(output) ? File.ReadAllText(output) : "", HeapSizeCost.Heading, section));
    Console.WriteLine($"Wrote {output}");
    return;
}
// --exact: the exact-growth table alone (seconds, not the full run's half hour); replaces its own section only.
if (args.Contains("--exact"))
{
    var section = ExactGrowth(runs, checkpoints);
    Console.Write(section);
    File.WriteAllText(output, HeapSizeCost.Replace(File.Exists(output) ? File.ReadAllText(output) : "", ExactGrowthHeading, section));
    Console.WriteLine($"Wrote {output}");
    return;
}
// --detect64 N: the detection table's 64 B row alone, N runs a cell, printed (a check that a verdict change kept it).
if (args.Contains("--detect64"))
{
    var n64 = Arg("--detect64", 100);
    foreach (var iterations in new[] { 1_000, 10_000 })
    {
        var flagged = Enumerable.Range(0, n64).Count(_ =>
        {
            var p = Leak.Profile(Workloads.Leak(64), iterations, new LeakOptions { Sampling = SamplingMode.Off, AttributionBudget = TimeSpan.Zero, Checkpoints = checkpoints });
            Workloads.ClearLeaks();
            return Flags(p, 0.Bytes().PerIteration());
        });
        Console.WriteLine($"64 B an iteration, {iterations:N0} iterations: {flagged}/{n64} flagged");
    }
    return;
}
// --bounded N: the bounded-growth false-positive rows alone, N runs each; replaces their own section only. Flagged
// runs' findings go to stderr, their whole failure messages and checkpoints to --log (a temp file by default).
if (args.Contains("--bounded"))
{
    var boundedRuns = Arg("--bounded", 25);
    var logPath = BoundedLog();
    using var log = new StreamWriter(logPath) { AutoFlush = true };
    Console.Error.WriteLine($"Flagged runs logged to {logPath}");
    var started = Stopwatch.StartNew();
    var results = BoundedGrowth.Rows.Select(row =>
    {
        var r = BoundedGrowth.Measure(row, boundedRuns, checkpoints, log);
        Console.Error.WriteLine($"{BoundedGrowth.Label(row)}: {r.Flagged}/{r.Runs} flagged");
        return r;
    }).ToList();
    var section = BoundedGrowth.Section(results, boundedRuns, checkpoints, BoundedGrowth.Commit(RepositoryRoot()), started.Elapsed);
    Console.Write(section);
    File.WriteAllText(output, BoundedGrowth.Into(File.Exists(output) ? File.ReadAllText(output) : "", section));
    Console.WriteLine($"Wrote {output}");
    return;
}
// Measured apart (it needs dotnet-gcdump): the last measured section stays when the rest is measured again.
var snapshotSection = File.Exists(output) ? SnapshotCost.Measured(File.ReadAllText(output)) : null;
var tracedSection = File.Exists(output) ? TracedPassCost.Measured(File.ReadAllText(output)) : null;
var heapSizeSection = File.Exists(output) ? HeapSizeCost.Measured(File.ReadAllText(output)) : null;
var boundedSection = File.Exists(output) ? BoundedGrowth.Measured(File.ReadAllText(output)) : null;
var clock = Stopwatch.StartNew();
using var doc = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
var md = new Markdown(doc);

md.Line("# LeakAssert benchmarks");
md.Line();
md.Line($"Machine: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} cores. A shared machine: read medians and ratios, not single times.");
md.Line($"Reproduce: `dotnet run --project bench/LeakAssert.Bench -c Release -- --runs {runs}{(checkpoints == new LeakOptions().Checkpoints ? "" : $" --checkpoints {checkpoints}")}`.");
md.Line();
md.Line("The verdict rests on exact retained sizes only, so the detection and false-positive tables run with sampling off;");
md.Line("one false-positive row repeats a workload with sampling on to show the session adds none.");
md.Line();

// 0. Exact retained growth of a known leak.
doc.Write(ExactGrowth(runs, checkpoints));

// 1. Detection power at the strictest bound: NotRetainMoreThan(0.Bytes().PerIteration()).
md.Line("## Detection power");
md.Line($"Fraction of runs flagged by `NotRetainMoreThan(0.Bytes().PerIteration())` ({runs} runs a cell; 20 for 16 kB x 10k, which retains 160 MB a run).");
md.Line();
var detected64 = (Flagged: 0, Runs: 0);
md.Line("| retained per iteration | 1,000 iterations | 10,000 iterations |");
md.Line("|---:|---:|---:|");
foreach (var size in new[] { 16, 64, 256, 1_024, 16_384 })
{
    var cells = new[] { 1_000, 10_000 }.Select(n =>
    {
        var r = size == 16_384 && n == 10_000 ? Math.Min(runs, 20) : runs;
        var flagged = Enumerable.Range(0, r).Count(_ =>
        {
            var p = Leak.Profile(Workloads.Leak(size), n, new LeakOptions { Sampling = SamplingMode.Off, AttributionBudget = TimeSpan.Zero, Checkpoints = checkpoints });
            Workloads.ClearLeaks();
            return Flags(p, 0.Bytes().PerIteration());
        });
        if (size == 64) detected64 = (detected64.Flagged + flagged, detected64.Runs + r);
        return $"{flagged}/{r}";
    }).ToArray();
    md.Line($"| {size:N0} B | {cells[0]} | {cells[1]} |");
}
md.Line();

// 2. False positives: non-leaking workloads, 2,050 runs in all at --runs 100 (1,000 of them bounded growth), at the same strictest bound.
md.Line("## False positives");
md.Line("Runs flagged by `NotRetainMoreThan(0.Bytes().PerIteration())` on workloads that do not leak (2,000 iterations each).");
md.Line($"The bounded-growth rows grow inside the measured pass and stop before its end ({BoundedGrowth.Heading[3..]}, below, says how and what a flagged run's verdict said).");
md.Line();
md.Line("| workload | sampling | runs | flagged |");
md.Line("|---|---|---:|---:|");
var fpRuns = Math.Max(1, runs * 2);
var fpTotal = 0;
var fpFlagged = 0;
foreach (var (name, make, sampling, count) in new (string, Func<Action>, SamplingMode, int)[]
{
    ("garbage: 50 kB of short-lived arrays an iteration", () => Workloads.Churn, SamplingMode.Off, fpRuns),
    ("a cache of 1,000 entries that fills, then only hits", () => new BoundedCache().Get, SamplingMode.Off, fpRuns),
    ("heavy JIT: an expression tree compiled and run an iteration", () => Workloads.CompileExpression, SamplingMode.Off, fpRuns),
    ("thread-pool work: Task.Run(...).Wait() an iteration", () => Workloads.ThreadPoolRoundTrip, SamplingMode.Off, fpRuns),
    ("other threads allocating in parallel (garbage only)", () => Workloads.SmallGarbage, SamplingMode.Off, fpRuns),
    ("garbage, with the session on the measured iterations (Always)", () => Workloads.Churn, SamplingMode.Always, Math.Max(1, runs / 2)),
})
{
    using var polluter = name.StartsWith("other threads", StringComparison.Ordinal) ? new Polluter() : null;
    var flagged = Enumerable.Range(0, count).Count(_ =>
        Flags(Leak.Profile(make(), 2_000, new LeakOptions { Sampling = sampling, Warmup = 200, Checkpoints = checkpoints }), 0.Bytes().PerIteration()));
    fpTotal += count;
    fpFlagged += flagged;
    md.Line($"| {name} | {sampling} | {count:N0} | {flagged} |");
}
// Growth that stops inside the measured pass (BoundedGrowth), sync and async: 1,000 runs in all at --runs 100.
var boundedCount = Math.Max(1, runs * 5 / 4);
using (var log = new StreamWriter(BoundedLog()) { AutoFlush = true })
{
    foreach (var row in BoundedGrowth.Rows)
    {
        var r = BoundedGrowth.Measure(row, boundedCount, checkpoints, log);
        fpTotal += r.Runs;
        fpFlagged += r.Flagged;
        md.Line($"| bounded growth: {row.Name}, {(row.Async ? "async" : "sync")} | Off | {r.Runs:N0} | {r.Flagged} |");
    }
}
md.Line($"| **all** | | **{fpTotal:N0}** | **{fpFlagged}** |");
md.Line();
// The bounded-growth rows measured apart by --bounded, with what the verdict said of flagged runs.
if (boundedSection is not null) doc.Write(boundedSection);

// 3. Attribution: top's first row and the sampled inuse_space error, without extra attribution iterations.
md.Line("## Attribution");
var attributionRuns = Math.Max(5, runs / 5);
md.Line($"A leak of 1 kB arrays from one method, profiled over exactly the measured iterations (`SamplingMode.Always`, no extra iterations); `top` of the diff's inuse_space ({attributionRuns} runs a row).");
md.Line();
md.Line("| total leak | mean samples | top row 1 is the leaking method | mean error | median abs error | worst abs error |");
md.Line("|---|---:|---:|---:|---:|---:|");
var attribution = new Dictionary<string, double>();
foreach (var (label, iterations) in new[] { ("1 MB", 1_024), ("10 MB", 10_240) })
{
    var results = Enumerable.Range(0, attributionRuns).Select(_ =>
    {
        // Always: the profile covers exactly the measured leak, with no extra iterations.
        var p = Leak.Profile(Workloads.Leak(1_024), iterations, new LeakOptions { Sampling = SamplingMode.Always, AttributionBudget = TimeSpan.Zero });
        Workloads.ClearLeaks();
        var diff = p.Profiles!.Diff;
        var truth = iterations * 1_024.0;
        var top = Top.Of(diff, SampleValue.InuseSpace);
        var correct = top.Rows.Count > 0 && top.Rows[0].Function.EndsWith("Workloads.Leak1024", StringComparison.Ordinal);
        return (Error: (diff.Total(SampleValue.InuseSpace) - truth) / truth, Samples: diff.SampleCount(SampleValue.InuseSpace), Correct: correct);
    }).ToList();
    var errors = results.Select(r => r.Error).ToList();
    attribution[label] = (double)results.Count(r => r.Correct) / results.Count;
    md.Line($"| {label} | {results.Average(r => r.Samples):F1} | {results.Count(r => r.Correct)}/{results.Count} | {errors.Average():+0.0%;-0.0%} | {errors.Select(Math.Abs).Median():0.0%} | {errors.Max(Math.Abs):0.0%} |");
}
md.Line();

// 4. Cost.
md.Line("## Cost");
var costRuns = Math.Max(5, runs / 5);
md.Line($"Fixed cost: one `Leak.Profile` call on an empty workload, 1 iteration, 4 checkpoints, warm ({costRuns} calls). With the");
md.Line("default `WhenGrowing`, a run without growth never starts the session; `Always` pays for the session's start, stop, rundown and trace parsing.");
md.Line();
md.Line("| sampling | median | p90 |");
md.Line("|---|---:|---:|");
var fixedCost = new Dictionary<SamplingMode, double>();
foreach (var sampling in new[] { SamplingMode.WhenGrowing, SamplingMode.Always, SamplingMode.Off })
{
    var options = new LeakOptions { Sampling = sampling, Checkpoints = 4 };
    Leak.Profile(() => { }, 1, options);
    var times = Enumerable.Range(0, costRuns).Select(_ => Leak.Profile(() => { }, 1, options).Elapsed.TotalMilliseconds).ToList();
    fixedCost[sampling] = times.Median();
    md.Line($"| {sampling} | {times.Median():F0} ms | {times.Percentile(0.9):F0} ms |");
}
md.Line();
md.Line("Per-iteration overhead: time per measured iteration inside `Leak.Profile` against a bare loop of the same workload in");
md.Line($"the same process, alternating, each after a settled GC ({costRuns} rounds, 20,000 iterations each; ratio of medians).");
md.Line("The bare loop runs in the state the measured pass runs in: background GC off and the same 16 segments, each after the");
md.Line("same forced full GC, only the segments timed (a bare loop of all 20,000 in one go after `GC.Collect()` took 299 ns against 31 ns).");
md.Line("What remains is LeakAssert's own work per iteration: a progress counter, and a call through an unoptimized frame that");
md.Line("keeps the workload's own frame in sampled stacks (a few ns). The default mode measures without the session; `Always` under it.");
md.Line();
md.Line("| workload | bare loop | default (WhenGrowing) | ratio | Always | ratio |");
md.Line("|---|---:|---:|---:|---:|---:|");
var overheads = new List<double>();
foreach (var (name, work) in new (string, Action)[]
{
    ("allocate a 1 kB array (~100 ns)", Workloads.AllocateKilobyte),
    ("format and parse a number (~200 ns)", Workloads.FormatAndParse),
    ("sort 100 integers (~1 µs)", Workloads.SortHundred),
})
{
    const int n = 20_000;
    var bare = new List<double>();
    var profiled = new List<double>();
    var always = new List<double>();
    BareLoop.Run(work, n, segments: 16); // warm, as Leak.Profile's own warmup warms the workload
    for (var i = 0; i < costRuns; i++)
    {
        Settle();
        bare.Add(BareLoop.Run(work, n, segments: 16).TotalNanoseconds / n);
        Settle();
        profiled.Add(Leak.Profile(work, n, new LeakOptions { AttributionBudget = TimeSpan.Zero }).MeasuredTime.TotalNanoseconds / n);
        Settle();
        always.Add(Leak.Profile(work, n, new LeakOptions { Sampling = SamplingMode.Always, AttributionBudget = TimeSpan.Zero }).MeasuredTime.TotalNanoseconds / n);
    }
    var ratio = profiled.Median() / bare.Median();
    overheads.Add(ratio);
    md.Line($"| {name} | {bare.Median():F0} ns | {profiled.Median():F0} ns | {ratio:F2} | {always.Median():F0} ns | {always.Median() / bare.Median():F2} |");
}
md.Line();
md.Line("Memory used by LeakAssert itself per call (a 2,000-iteration 1 kB leak, so the sampled pass runs): managed bytes it allocates");
md.Line("(process-wide allocations minus the workload's), and the process's private memory before and after the calls.");
md.Line();
{
    var own = new List<double>();
    var privateBefore = Process.GetCurrentProcess().PrivateMemorySize64;
    for (var i = 0; i < costRuns; i++)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var p = Leak.Profile(Workloads.Leak(1_024), 2_000, new LeakOptions { AttributionBudget = TimeSpan.Zero });
        var total = GC.GetTotalAllocatedBytes(precise: true) - before;
        Workloads.ClearLeaks();
        own.Add(total - p.AllocatedBytesPerIteration * (p.Iterations + p.Warmup));
    }
    GC.Collect();
    var privateAfter = Process.GetCurrentProcess().PrivateMemorySize64;
    md.Line("| managed allocation by LeakAssert, median | private memory before | after the calls |");
    md.Line("|---:|---:|---:|");
    md.Line($"| {ByteSize.Format(own.Median())} | {ByteSize.Format(privateBefore)} | {ByteSize.Format(privateAfter)} |");
}
md.Line();

// 5. Snapshots, measured by --snapshots.
if (snapshotSection is not null)
{
    doc.Write(snapshotSection);
}
else
{
    md.Line("## Heap snapshots");
    md.Line("Measured apart, against dotnet-gcdump: `dotnet run --project bench/LeakAssert.Bench -c Release -- --snapshots`.");
    md.Line();
}

// 6. Cost against the live heap, measured by --heap-size.
doc.Write(heapSizeSection ?? $"{HeapSizeCost.Heading}\nMeasured apart: `dotnet run --project bench/LeakAssert.Bench -c Release -- --heap-size`.\n\n");

// Targets.
md.Line("## Targets");
md.Line();
md.Line("| target | measured | met |");
md.Line("|---|---|---|");
md.Line($"| fixed cost <= 300 ms warm | {fixedCost[SamplingMode.WhenGrowing]:F0} ms median by default for a run without growth; {fixedCost[SamplingMode.Always]:F0} ms for a run that opens the session (Always, or a leak's attribution pass) | {(fixedCost[SamplingMode.WhenGrowing] <= 300 ? "yes" : "no")} by default; {(fixedCost[SamplingMode.Always] <= 300 ? "yes" : "no")} with the session |");
md.Line($"| per-iteration overhead <= 10% | ratios {string.Join(", ", overheads.Select(o => o.ToString("F2", CultureInfo.InvariantCulture)))} (default mode) | {(overheads.All(o => o <= 1.10) ? "yes" : "no")} |");
md.Line($"| top row 1 correct >= 95% for leaks >= 1 MB | 1 MB: {attribution["1 MB"]:P0}, 10 MB: {attribution["10 MB"]:P0} | {(attribution.Values.All(v => v >= 0.95) ? "yes" : "no")} |");
md.Line($"| 0 false positives in 2,000 non-leaking runs, bounded growth included | {fpFlagged} in {fpTotal:N0} | {(fpFlagged == 0 && fpTotal >= 2_000 ? "yes" : fpFlagged == 0 ? "none flagged, fewer runs" : "no")} |");
md.Line($"| >= 99% detection of 64 B/iteration at <= 10k iterations | {detected64.Flagged}/{detected64.Runs} runs at 1k and 10k | {(detected64.Flagged >= 0.99 * detected64.Runs ? "yes" : "no")} |");
md.Line();
md.Line($"Took {clock.Elapsed.TotalMinutes:F1} minutes.");
if (tracedSection is not null) doc.Write("\n" + tracedSection);

Directory.CreateDirectory(Path.GetDirectoryName(output)!);
File.WriteAllText(output, doc.ToString());
Console.Write(doc.ToString());
Console.WriteLine($"Wrote {output}");

static void Settle()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
}

static bool Flags(LeakProfile p, PerIterationBound bound)
{
    try { p.Should().NotRetainMoreThan(bound); return false; }
    catch (FluentAssertions.Execution.AssertionFailedException) { return true; }
}

string BoundedLog() => ArgText("--log", null) ?? Path.Combine(Path.GetTempPath(), "leakassert-bounded-flagged.log");

int Arg(string name, int fallback) => ArgText(name, null) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? ArgText(string name, string? fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "LeakAssert.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}

// A known leak of 2,000 x 1,024 bytes into a list whose capacity is reserved: the error of RetainedGrowth.
static string ExactGrowth(int runs, int checkpoints)
{
    using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
    var md = new Markdown(text);
    md.Line(ExactGrowthHeading);
    md.Line($"A known leak of 2,000 x 1,024 B = 2,048,000 B; error of `RetainedGrowth` ({runs} runs a row).");
    md.Line();
    md.Line("| sampling | median error | median abs error | worst abs error |");
    md.Line("|---|---:|---:|---:|");
    foreach (var sampling in new[] { SamplingMode.WhenGrowing, SamplingMode.Always })
    {
        var errors = Enumerable.Range(0, runs).Select(_ =>
        {
            var p = Leak.Profile(Workloads.Leak(1_024), 2_000, new LeakOptions { Sampling = sampling, AttributionBudget = TimeSpan.Zero, Checkpoints = checkpoints });
            Workloads.ClearLeaks();
            return (double)(p.RetainedGrowth.Bytes - 2_000 * 1_024);
        }).ToList();
        md.Line($"| {sampling} | {errors.Median():F0} B | {errors.Select(Math.Abs).Median():F0} B | {errors.Max(Math.Abs):F0} B |");
    }
    md.Line();
    return text.ToString();
}
