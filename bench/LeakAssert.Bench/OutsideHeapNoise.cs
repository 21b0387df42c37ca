using System.Diagnostics;
using System.Globalization;
using Fixtures;
using LeakAssert.Measurement;

namespace LeakAssert.Bench;

/// <summary>
/// The noise floor of the counters outside the GC heap: busy workloads that do not leak (garbage, heavy JIT, thread
/// pool bursts, compiled regular expressions), each measured with the default options in a fresh process per run (as
/// a leak test meets them: the JIT, the regex compiler and the pool start cold) and many times in one process; then
/// the leaks of each kind and their fixed twins, to set the floor against.
/// </summary>
internal static class OutsideHeapNoise
{
    private const string ChildFlag = "--outside-heap-child";

    /// <summary>One measured run of the busy workload at <paramref name="index"/>, printed as one line per counter for the parent.</summary>
    public static bool TryRunChild(string[] args)
    {
        var at = Array.IndexOf(args, ChildFlag);
        if (at < 0) return false;
        var profile = Busy(int.Parse(args[at + 1], CultureInfo.InvariantCulture));
        foreach (var s in profile.OutsideHeap!.All)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Name}\t{s.Total}\t{s.Growth.SlopeLowerBound99 * s.Growth.Iterations}\t{s.IsRising}\t{FailsOutsideHeap(profile)}"));
        return true;
    }

    public static string Run(int runs)
    {
        using var doc = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        doc.WriteLine("# Outside the GC heap: noise floor and detection");
        doc.WriteLine();
        doc.WriteLine($"Reproduce: `dotnet run --project bench/LeakAssert.Bench -c Release -- --outside-heap --runs {runs}`. {Environment.ProcessorCount} cores, a shared machine.");
        doc.WriteLine();
        doc.WriteLine($"## Non-leaking workloads ({runs} runs each, default options)");
        doc.WriteLine();
        doc.WriteLine("Growth of each counter from the baseline to the last measured checkpoint, median and max over the runs; \"max at the lower");
        doc.WriteLine("bound\" is the largest 99% lower-bound slope times the iterations, which the verdict holds against the noise floor (native");
        doc.WriteLine($"memory {ByteSize.Format(OutsideHeap.NativeNoiseFloorBytes)}, counts {OutsideHeap.CountNoiseFloor}; half of it for the second half); \"rising\" counts the runs in which the counter rose steadily.");
        doc.WriteLine("\"Fresh\" runs one measurement in a new process each time, as a leak test meets the JIT, the regex compiler and the thread");
        doc.WriteLine("pool: cold. \"Repeated\" runs them one after another in one process.");
        doc.WriteLine();
        doc.WriteLine("| workload | iterations | process | counter | median | max | max at the lower bound | rising |");
        doc.WriteLine("|---|---:|---|---|---:|---:|---:|---:|");
        var all = new List<Reading>();
        for (var w = 0; w < BusyWorkloads.All.Count; w++)
        {
            foreach (var fresh in new[] { true, false })
            {
                var readings = Enumerable.Range(0, runs).SelectMany(_ => fresh ? Child(w) : Readings(Busy(w))).ToList();
                all.AddRange(readings);
                foreach (var counter in readings.GroupBy(r => r.Counter))
                {
                    var bytes = counter.Key == "native memory";
                    doc.WriteLine($"| {BusyWorkloads.All[w].Name} | {Iterations(w):N0} | {(fresh ? "fresh" : "repeated")} | {counter.Key} | {Format(bytes, counter.Select(r => r.Total).Median())} | {Format(bytes, counter.Max(r => r.Total))} | {Format(bytes, counter.Max(r => r.AtLowerBound))} | {counter.Count(r => r.Rising)} |");
                }
            }
        }
        var measured = all.Count / 5;
        doc.WriteLine();
        doc.WriteLine($"All {measured} runs: a default verdict failed in {all.Where(r => r.Counter == "native memory").Count(r => r.Failed)}.");
        doc.WriteLine();
        doc.WriteLine("| counter | median growth | max growth | max at the lower bound | noise floor | rising |");
        doc.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var counter in all.GroupBy(r => r.Counter))
        {
            var bytes = counter.Key == "native memory";
            doc.WriteLine($"| {counter.Key} | {Format(bytes, counter.Select(r => r.Total).Median())} | {Format(bytes, counter.Max(r => r.Total))} | {Format(bytes, counter.Max(r => r.AtLowerBound))} | {Format(bytes, bytes ? OutsideHeap.NativeNoiseFloorBytes : OutsideHeap.CountNoiseFloor)} | {counter.Count(r => r.Rising)} |");
        }
        doc.WriteLine();

        var leakRuns = Math.Max(3, runs / 4);
        doc.WriteLine($"## Leaks and their fixed twins ({leakRuns} runs each, 1,000 iterations, one process)");
        doc.WriteLine();
        doc.WriteLine("The median growth per iteration of each counter, with the runs in which it rose steadily; \"failed\" counts the runs in which a default verdict failed.");
        doc.WriteLine();
        doc.WriteLine("| workload | native memory | assemblies | load contexts | threads | handles | failed |");
        doc.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, work, release) in new (string, Action, Action)[]
                 {
                     ("an assembly generated per call", () => GeneratedSerializers.GenerateEveryCall(), () => { }),
                     ("fixed: generated once", () => GeneratedSerializers.GenerateOnce(), () => { }),
                     ("a collectible load context kept per call", Plugins.LoadAndKeep, Plugins.Release),
                     ("fixed: unloaded", Plugins.LoadAndUnload, () => { }),
                     ("a thread started per call, never stopped", Workers.StartAndForget, Workers.Release),
                     ("fixed: joined", Workers.StartAndJoin, () => { }),
                     ("a file opened per call, never closed", OpenFiles.OpenAndKeep, OpenFiles.Release),
                     ("fixed: disposed", OpenFiles.OpenAndDispose, () => { }),
                     ("64 kB of native memory per call, never freed", NativeBuffers.AllocateAndKeep, NativeBuffers.Release),
                     ("fixed: freed", NativeBuffers.AllocateAndFree, () => { }),
                 })
        {
            var results = Enumerable.Range(0, leakRuns).Select(_ =>
            {
                var p = Leak.Profile(work, 1_000, new LeakOptions { AttributionBudget = TimeSpan.Zero });
                release();
                return p;
            }).ToList();
            var cells = Enumerable.Range(0, 5).Select(c =>
            {
                var series = results.Select(p => p.OutsideHeap!.All[c]).ToList();
                var rising = series.Count(s => s.IsRising);
                return Format(series[0].CountsBytes, series.Select(s => s.Growth.SlopeBytesPerIteration).Median()) + (rising > 0 ? $" ({rising} rising)" : "");
            });
            doc.WriteLine($"| {name} | {string.Join(" | ", cells)} | {results.Count(FailsOutsideHeap)}/{leakRuns} |");
        }
        return doc.ToString();
    }

    private sealed record Reading(string Counter, double Total, double AtLowerBound, bool Rising, bool Failed);

    private static int Iterations(int workload) => BusyWorkloads.All[workload].Name.StartsWith("thread pool", StringComparison.Ordinal) ? 1_000 : 2_000;

    private static LeakProfile Busy(int workload) =>
        Leak.Profile(BusyWorkloads.All[workload].Work, Iterations(workload), new LeakOptions { AttributionBudget = TimeSpan.Zero });

    private static IEnumerable<Reading> Readings(LeakProfile p) =>
        p.OutsideHeap!.All.Select(s => new Reading(s.Name, s.Total, s.Growth.SlopeLowerBound99 * s.Growth.Iterations, s.IsRising, FailsOutsideHeap(p))).ToList();

    // This benchmark again, in a new process, measuring one run of one busy workload.
    private static IEnumerable<Reading> Child(int workload)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!, [typeof(OutsideHeapNoise).Assembly.Location, ChildFlag, workload.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"The child run of {BusyWorkloads.All[workload].Name} failed:\n{output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')).Select(f => new Reading(f[0],
            double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture), bool.Parse(f[3]), bool.Parse(f[4]))).ToList();
    }

    // Every leak assertion fails on steady growth outside the GC heap; with no heap bound to speak of, only that decides.
    private static bool FailsOutsideHeap(LeakProfile p)
    {
        try { p.Should().NotRetainMoreThan(new ByteSize(long.MaxValue)); return false; }
        catch (FluentAssertions.Execution.AssertionFailedException) { return true; }
    }

    private static string Format(bool bytes, double value) =>
        bytes ? ByteSize.Format(value) : value.ToString("0.##", CultureInfo.InvariantCulture);
}
