using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LeakAssert.Snapshots;

namespace LeakAssert.Bench;

/// <summary>
/// What a heap snapshot costs against dotnet-gcdump on the same process and the same heap, and what telling its leaks
/// costs on top: heaps of nodes held flat (an array of them) or as a chain (each node linked to the one before, only
/// the newest held), a LeakAssert snapshot with its leak groups and a <c>dotnet-gcdump collect</c> of this very process
/// in turn, medians of several each.
/// </summary>
internal static partial class SnapshotCost
{
    private static Node[]? _heap;
    private static Node? _chain;

    /// <summary>The section's Markdown, "## Heap snapshots" first.</summary>
    public static string Run(int runs, string? gcdump)
    {
        using var doc = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        doc.WriteLine("## Heap snapshots");
        doc.WriteLine($"`HeapSnapshot.TryTake` against `dotnet-gcdump collect -p <this process>` (dotnet-gcdump {GcdumpVersion(gcdump)}), on the same heap of");
        doc.WriteLine($"nodes in the same process, taken in turn; medians of {runs} each after one warm-up each. A flat heap holds its nodes in an");
        doc.WriteLine("array (each node also linked to the next), a chain holds only the newest node, each linked to the one before, as");
        doc.WriteLine("token registrations and AsyncLocal scopes are. \"Leak groups\" is what the groups cost on top of the snapshot: following");
        doc.WriteLine("the moves since a snapshot taken before the nodes were made, the search from all roots, the dominators and the grouping");
        doc.WriteLine("(the nodes must come out as one group of all of them). \"Paths\" is the first `PathsTo` of the nodes' type, flat heaps");
        doc.WriteLine("only (its per-instance path walk is quadratic on a chain). \"Allocated\" is what one snapshot");
        doc.WriteLine("allocates on the managed heap, \"graph\" what it holds while it lives (its arrays), \"RSS\" how much the first snapshot");
        doc.WriteLine("of a heap raised this process's peak resident memory (the session's buffers included), and dotnet-gcdump's own peak.");
        doc.WriteLine($"Reproduce: `dotnet run --project bench/LeakAssert.Bench -c Release -- --snapshots --runs {runs}`.{Load()}");
        doc.WriteLine();
        doc.WriteLine("| heap | objects (LeakAssert / dotnet-gcdump) | LeakAssert snapshot | leak groups | snapshot + groups | paths | dotnet-gcdump collect | ratio (with groups) | allocated | graph | RSS: LeakAssert / dotnet-gcdump |");
        doc.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var ratios = new List<double>();
        var totals = new Dictionary<(bool Chain, int Nodes), double>();
        foreach (var chain in new[] { false, true })
        foreach (var nodes in new[] { 100_000, 1_000_000 })
        {
            Settle();
            var ours = new List<double>();
            var grouping = new List<double>();
            var paths = new List<double>();
            var allocated = new List<double>();
            var theirs = new List<double>();
            var peaks = new List<double>();
            long graphBytes = 0;
            long peakGrowth = 0;
            var objects = 0;
            long? theirObjects = null;
            for (var run = -1; run < runs; run++)
            {
                // The nodes are made between a first snapshot and the measured one, so that all of them are new there.
                _heap = null;
                _chain = null;
                Settle();
                using var identity = ObjectIdentity.TryStart(out var problem) ?? throw new InvalidOperationException("no identity: " + problem);
                var first = HeapSnapshot.TryTake(out problem) ?? throw new InvalidOperationException("no snapshot: " + problem);
                var old = identity.Keep(first.Graph);
                first = null;
                Build(nodes, chain);
                Settle();
                // The peak resident memory only rises: the first snapshot of each heap shows what one adds to it.
                var peakBefore = PeakResident();
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                var snapshot = HeapSnapshot.TryTake(out problem) ?? throw new InvalidOperationException("no snapshot: " + problem);
                var took = clock.Elapsed.TotalMilliseconds;
                var allocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
                clock.Restart();
                if (identity.Follow(snapshot.Graph) is { } lost) throw new InvalidOperationException(lost);
                var followed = clock.Elapsed.TotalMilliseconds;
                var leaks = snapshot.Leaks(old, middle: null, iterations: nodes, firstHalfIterations: 0);
                var grouped = clock.Elapsed.TotalMilliseconds;
                var group = leaks.Leaks.FirstOrDefault(g => g.BoundaryType == HeapSnapshot.NameOf(typeof(Node)));
                if (group is null || group.Count != nodes) throw new InvalidOperationException($"the groups found {group?.Count ?? 0} of {nodes} nodes");
                var searched = double.NaN;
                if (!chain)
                {
                    clock.Restart();
                    var found = snapshot.PathsTo(typeof(Node));
                    searched = clock.Elapsed.TotalMilliseconds;
                    if (found.Count == 0 || found[0].Instances != nodes) throw new InvalidOperationException($"the snapshot found {(found.Count == 0 ? 0 : found[0].Instances)} of {nodes} nodes");
                }
                objects = snapshot.ObjectCount;
                if (run < 0) peakGrowth = PeakResident() - peakBefore;
                graphBytes = snapshot.GraphBytes;
                Settle();
                if (gcdump is not null)
                {
                    var (seconds, peak, file) = Gcdump(gcdump);
                    if (run >= 0)
                    {
                        theirs.Add(seconds * 1000);
                        peaks.Add(peak);
                    }
                    theirObjects ??= Report(gcdump, file);
                    File.Delete(file);
                    Settle();
                }
                if (run < 0) continue; // the warm-up: JIT, and the tool's first start
                ours.Add(took);
                grouping.Add(grouped);
                if (!chain) paths.Add(searched);
                allocated.Add(allocatedBytes);
                Console.Error.WriteLine($"{(chain ? "chain" : "flat")} {nodes:N0} nodes, run {run + 1}: snapshot {took:F0} ms, groups {grouped:F0} ms (following moves {followed:F0} ms){(chain ? "" : $", paths {searched:F0} ms")}{(gcdump is null ? "" : $", dotnet-gcdump {theirs[^1]:F0} ms")}");
            }
            var total = ours.Zip(grouping, (a, b) => a + b).ToList().Median();
            totals[(chain, nodes)] = total;
            if (theirs.Count > 0) ratios.Add(theirs.Median() / total);
            var ratio = theirs.Count == 0 ? "-" : $"{ratios[^1]:F1}x";
            doc.WriteLine($"| {(chain ? "chain" : "flat")}, {nodes:N0} nodes | {objects:N0} / {(theirObjects is { } t ? t.ToString("N0", CultureInfo.InvariantCulture) : "-")} | {ours.Median():F0} ms | {grouping.Median():F0} ms | {total:F0} ms | {(chain ? "-" : $"{paths.Median():F0} ms")} | "
                + $"{(theirs.Count == 0 ? "-" : $"{theirs.Median():F0} ms")} | {ratio} | {ByteSize.Format(allocated.Median())} | {ByteSize.Format(graphBytes)} | "
                + $"+{ByteSize.Format(peakGrowth)} / {(peaks.Count == 0 ? "-" : ByteSize.Format(peaks.Median()))} |");
            _heap = null;
            _chain = null;
            Settle();
        }
        doc.WriteLine();
        doc.WriteLine($"A chain against a flat heap, snapshot and groups: {totals[(true, 100_000)] / totals[(false, 100_000)]:F2}x at 100,000 nodes, {totals[(true, 1_000_000)] / totals[(false, 1_000_000)]:F2}x at 1,000,000 (target at most 2x).");
        if (gcdump is null)
            doc.WriteLine("dotnet-gcdump was not found: `dotnet tool install --tool-path /tmp/gcdumptool dotnet-gcdump --version 10.0.750501`, then `--gcdump /tmp/gcdumptool/dotnet-gcdump`.");
        else
        {
            doc.WriteLine("dotnet-gcdump's time includes starting its own process, as a user running it pays; on .NET 10 it warns that its buffering is lossy on large heaps.");
            doc.WriteLine($"Target, at least 2x faster than dotnet-gcdump at every size: {(ratios.All(r => r >= 2) ? "met" : "not met")} ({string.Join(", ", ratios.Select(r => r.ToString("F1", CultureInfo.InvariantCulture) + "x"))}).");
        }
        doc.WriteLine();
        return doc.ToString();
    }

    /// <summary>The document with its "## Heap snapshots" section replaced by this one (or this one added at the end).</summary>
    public static string Into(string document, string section)
    {
        var (start, end) = Find(document);
        return start < 0 ? document.TrimEnd('\n') + "\n\n" + section : document[..start] + section + document[end..];
    }

    /// <summary>The document's "## Heap snapshots" section as measured here, or null.</summary>
    public static string? Measured(string document)
    {
        var (start, end) = Find(document);
        return start >= 0 && document.IndexOf("| heap |", start, end - start, StringComparison.Ordinal) >= 0 ? document[start..end] : null;
    }

    private static (int Start, int End) Find(string document)
    {
        const string Heading = "## Heap snapshots\n";
        var start = document.StartsWith(Heading, StringComparison.Ordinal) ? 0
            : document.IndexOf("\n" + Heading, StringComparison.Ordinal) is var at and >= 0 ? at + 1 : -1;
        if (start < 0) return (-1, -1);
        var next = document.IndexOf("\n## ", start, StringComparison.Ordinal);
        return (start, next < 0 ? document.Length : next + 1);
    }

    /// <summary>The tool: the given path, else /tmp/gcdumptool's, else the PATH's, else null.</summary>
    public static string? FindGcdump(string? given)
    {
        if (given is not null) return File.Exists(given) ? given : throw new FileNotFoundException($"dotnet-gcdump is not at {given}");
        if (File.Exists("/tmp/gcdumptool/dotnet-gcdump")) return "/tmp/gcdumptool/dotnet-gcdump";
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, OperatingSystem.IsWindows() ? "dotnet-gcdump.exe" : "dotnet-gcdump")).FirstOrDefault(File.Exists);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Build(int count, bool chain)
    {
        if (chain)
        {
            for (var i = 0; i < count; i++) _chain = new Node(_chain, i);
            return;
        }
        _heap = new Node[count];
        Node? next = null;
        for (var i = count - 1; i >= 0; i--) _heap[i] = next = new Node(next, i);
    }

    // A shared machine's load, which every time above shares: read ratios, not single times.
    private static string Load() =>
        File.Exists("/proc/loadavg") ? $" Load average when run: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores." : "";

    private static long PeakResident()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    // One `dotnet-gcdump collect` of this process: wall time, the tool's peak resident memory (polled), the file.
    private static (double Seconds, double PeakBytes, string File) Gcdump(string tool)
    {
        var file = Path.Combine(Path.GetTempPath(), $"leakassert-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.gcdump");
        var start = new ProcessStartInfo(tool, ["collect", "-p", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "-o", file])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!process.WaitForExit(20))
        {
            try
            {
                process.Refresh();
                peak = Math.Max(peak, process.PeakWorkingSet64);
            }
            catch (InvalidOperationException)
            {
                // It exited between the wait and the read.
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0 || !File.Exists(file))
            throw new InvalidOperationException($"dotnet-gcdump collect failed ({process.ExitCode}):\n{output.Result}{errors.Result}");
        return (seconds, peak, file);
    }

    // The object count dotnet-gcdump's own report gives for a dump, to set beside the snapshot's.
    private static long? Report(string tool, string file)
    {
        var start = new ProcessStartInfo(tool, ["report", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = errors.Result;
        var match = HeapObjects().Match(text);
        return match.Success ? long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : null;
    }

    private static string GcdumpVersion(string? tool)
    {
        if (tool is null) return "not found";
        var start = new ProcessStartInfo(tool, ["--version"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return version.Split('+')[0];
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [GeneratedRegex(@"([\d,]+)\s+GC Heap objects")]
    private static partial Regex HeapObjects();

    internal sealed class Node(Node? next, long value)
    {
        public Node? Next { get; } = next;

        public long Value { get; } = value;
    }
}
