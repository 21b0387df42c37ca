using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace LeakAssert.Bench;

/// <summary>
/// What a leak test costs against the live heap every forced full GC must mark: the process holds 0 to 1.5 GB of
/// 64-byte arrays (a test host with a web app, a DI container and an ORM holds 100 MB to 1 GB), and one no-op
/// <c>Leak.Profile(() => { }, 1000)</c> is timed against one full collection of the same heap, in the same process.
/// </summary>
internal static class HeapSizeCost
{
    public const string Heading = "## Cost against the live heap";

    // Held by a static, as a host's singletons are: live for the whole row, in gen2 after the first collection.
    private static byte[][]? _heap;

    /// <summary>The section's Markdown, <see cref="Heading"/> first.</summary>
    public static string Run(int runs, IReadOnlyList<long> heapSizes)
    {
        using var doc = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        doc.WriteLine(Heading);
        doc.WriteLine("A live heap of 64-byte arrays held by a static (as a test host's web app, DI container and ORM hold 100 MB to");
        doc.WriteLine("1 GB), then one no-op `Leak.Profile(() => { }, 1000)` against one forced full GC of the same heap, in the same");
        doc.WriteLine($"process, taken in turn; medians of {runs} each after one warm-up. \"Full GCs\" counts the gen2 collections of one call.");
        doc.WriteLine($"Reproduce: `dotnet run --project bench/LeakAssert.Bench -c Release -- --heap-size --runs {runs}`.{Load()}");
        doc.WriteLine();
        doc.WriteLine("A checkpoint is one full, blocking, non-compacting collection (a second one only when it queued finalizers beyond the");
        doc.WriteLine("runtime's own gen2 callbacks). Below 64 MB a call takes 16 checkpoints after a settled baseline (two readings 20 ms");
        doc.WriteLine("apart); from 64 MB, 6 checkpoints after a baseline read once, 7 full GCs in all. The detection and false-positive");
        doc.WriteLine("tables at 6 checkpoints are in [BENCHMARKS-CHECKPOINTS-6.md](BENCHMARKS-CHECKPOINTS-6.md). The first row has no");
        doc.WriteLine("target: a full GC of a near-empty heap takes a fraction of a millisecond, while a call's fixed work (the baseline's");
        doc.WriteLine("20 ms wait, the counters outside the heap) does not shrink with the heap.");
        doc.WriteLine();
        doc.WriteLine("| live heap | objects | one compacting full GC | one non-compacting full GC | one no-op `Leak.Profile` | full GCs a call | checkpoints | ratio to one non-compacting GC |");
        doc.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        var ratios = new List<double>();
        foreach (var size in heapSizes)
        {
            var objects = Build(size);
            var compacting = new List<double>();
            var sweeping = new List<double>();
            var profile = new List<double>();
            var gcs = new List<double>();
            var used = 0;
            for (var run = -1; run < runs; run++)
            {
                var clock = Stopwatch.StartNew();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                var c = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
                var s = clock.Elapsed.TotalMilliseconds;
                var before = GC.CollectionCount(2);
                clock.Restart();
                var p = Leak.Profile(() => { }, 1_000);
                var took = clock.Elapsed.TotalMilliseconds;
                if (run < 0) continue;
                compacting.Add(c);
                sweeping.Add(s);
                profile.Add(took);
                gcs.Add(GC.CollectionCount(2) - before);
                used = p.Checkpoints.Count - 1;
            }
            var live = GC.GetGCMemoryInfo(GCKind.FullBlocking).PromotedBytes;
            var ratio = profile.Median() / sweeping.Median();
            ratios.Add(ratio);
            doc.WriteLine($"| {(size == 0 ? "0 (the bench itself)" : ByteSize.Format(size))} ({ByteSize.Format(live)} live) | {objects:N0} | {compacting.Median():F1} ms | {sweeping.Median():F1} ms | {profile.Median():F0} ms | {gcs.Median():F0} | {used} | {ratio:F1}x |");
            _heap = null;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        doc.WriteLine();
        var targeted = ratios.Skip(heapSizes[0] == 0 ? 1 : 0).ToList();
        doc.WriteLine($"Target, a no-op leak test at most 10x one non-compacting full GC on every row with a live heap: {(targeted.All(r => r <= 10) ? "met" : "not met")} ({string.Join(", ", targeted.Select(r => r.ToString("F1", CultureInfo.InvariantCulture) + "x"))}).");
        doc.WriteLine();
        return doc.ToString();
    }

    // Arrays of 64 bytes (88 on the heap with header and length, 8 more for the reference to each) up to `bytes`.
    private static int Build(long bytes)
    {
        var count = (int)(bytes / (88 + sizeof(long)));
        _heap = count == 0 ? null : new byte[count][];
        for (var i = 0; i < count; i++) _heap![i] = new byte[64];
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return count;
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? $" Load average when run: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores." : "";

    /// <summary>The document's section under <see cref="Heading"/> as measured here, or null.</summary>
    public static string? Measured(string document)
    {
        var at = document.IndexOf(Heading + "\n", StringComparison.Ordinal);
        if (at < 0 || document.IndexOf("| live heap |", at, StringComparison.Ordinal) < 0) return null;
        var next = document.IndexOf("\n## ", at + Heading.Length, StringComparison.Ordinal);
        return next < 0 ? document[at..] : document[at..(next + 1)];
    }

    /// <summary><paramref name="document"/> with its section under <paramref name="heading"/> replaced by <paramref name="section"/> (appended if absent).</summary>
    public static string Replace(string document, string heading, string section)
    {
        var at = document.IndexOf(heading + "\n", StringComparison.Ordinal);
        if (at < 0) return document.TrimEnd('\n') + "\n\n" + section;
        var next = document.IndexOf("\n## ", at + heading.Length, StringComparison.Ordinal);
        return document[..at] + section + (next < 0 ? "" : document[(next + 1)..]);
    }
}
