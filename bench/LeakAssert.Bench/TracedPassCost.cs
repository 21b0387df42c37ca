using System.Globalization;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Reporting;
using LeakAssert.Sampling;

namespace LeakAssert.Bench;

/// <summary>
/// What the traced pass costs, phase by phase: the sampling session a failing test opens on its process, started,
/// recording a 2,000 x 1 kB leak with its checkpoints, stopped (the rundown comes then), read to the end, converted,
/// parsed and resolved into profiles. Each pass must still name the leaking method with its source line.
/// </summary>
internal static class TracedPassCost
{
    private const string Heading = "## Traced pass";
    private const string BeforeHeading = "### Before";
    private const int Iterations = 2_000;
    private const int Checkpoints = 4;

    /// <summary>The section's Markdown, "## Traced pass" first.</summary>
    public static string Run(int runs)
    {
        var passes = new List<PassPhases>();
        for (var run = -1; run < runs; run++)
        {
            var phases = Pass();
            if (run < 0) continue; // the warm-up: JIT, and the diagnostics client's first connection
            passes.Add(phases);
            Console.Error.WriteLine($"run {run + 1}: " + string.Join(", ", phases.All.Select(p => $"{p.Name} {p.Time.TotalMilliseconds:F0} ms")));
        }
        var fixedCost = new Dictionary<SamplingMode, double>();
        foreach (var sampling in new[] { SamplingMode.Off, SamplingMode.Always })
        {
            var options = new LeakOptions { Sampling = sampling, Checkpoints = Checkpoints };
            Leak.Profile(() => { }, 1, options);
            fixedCost[sampling] = Enumerable.Range(0, runs).Select(_ => Leak.Profile(() => { }, 1, options).Elapsed.TotalMilliseconds).Median();
        }

        using var doc = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        doc.WriteLine(Heading);
        doc.WriteLine($"The sampling session a failing test opens (or `SamplingMode.Always`), phase by phase, on a {Iterations:N0} x 1 kB leak with");
        doc.WriteLine($"{Checkpoints} checkpoints; medians of {runs} passes after one warm-up. Allocated: managed bytes allocated process-wide during");
        doc.WriteLine("the phase (the pump thread's and the stop's included). Rundown: the span of the rundown's own events, inside the stop.");
        doc.WriteLine("Every pass must name `Workloads.Leak1024` with its source line as `top`'s first row, or the benchmark stops.");
        doc.WriteLine("Start: connecting to the process's diagnostics server and enabling the providers. Stop: the runtime's session thread");
        doc.WriteLine("finishing its current 100 ms sleep, then the rundown naming every method in the process, then the last flush. Drain:");
        doc.WriteLine("the rest of the stream after Stop returns. Parse: one pass of `EventPipeEventSource` over the .nettrace (GC replay,");
        doc.WriteLine("samples, task and thread origins, and the methods the samples' stacks hold). Resolve: stacks to trimmed frames with");
        doc.WriteLine("file:line from the portable PDBs. Profiles: the before, after and diff profiles.");
        doc.WriteLine($"Reproduce: `dotnet run --project bench/LeakAssert.Bench -c Release -- --traced --runs {runs}`.");
        doc.WriteLine();
        doc.WriteLine("| phase | median time | median allocated |");
        doc.WriteLine("|---|---:|---:|");
        foreach (var name in passes[0].All.Select(p => p.Name))
        {
            var of = passes.Select(p => p.All.First(x => x.Name == name)).ToList();
            doc.WriteLine($"| {name}{(name == "stop" ? $" (rundown {passes.Select(p => p.Rundown.TotalMilliseconds).Median():F0} ms of it)" : "")} | {of.Select(p => p.Time.TotalMilliseconds).Median():F0} ms | {ByteSize.Format(of.Select(p => (double)p.AllocatedBytes).Median())} |");
        }
        var totals = passes.Select(p => (Time: p.All.Sum(x => x.Time.TotalMilliseconds), Bytes: (double)p.All.Sum(x => x.AllocatedBytes))).ToList();
        doc.WriteLine($"| **all** | **{totals.Select(t => t.Time).Median():F0} ms** | **{ByteSize.Format(totals.Select(t => t.Bytes).Median())}** |");
        doc.WriteLine();
        doc.WriteLine($"The trace: {ByteSize.Format(passes.Select(p => (double)p.TraceBytes).Median())}, {passes.Select(p => (double)p.Events.All).Median():N0} events of which " +
            $"{passes.Select(p => (double)p.Events.Rundown).Median():N0} are the rundown's (medians).");
        doc.WriteLine($"As a test sees it: `Leak.Profile` of an empty workload, 1 iteration, {Checkpoints} checkpoints, takes {fixedCost[SamplingMode.Always]:F0} ms with `Always` against " +
            $"{fixedCost[SamplingMode.Off]:F0} ms with `Off` (medians of {runs}).");
        doc.WriteLine();
        return doc.ToString();
    }

    /// <summary>The document with its "## Traced pass" section replaced by this one (its "### Before" part kept), or added at the end.</summary>
    public static string Into(string document, string section)
    {
        var (start, end) = Find(document);
        if (start < 0) return document.TrimEnd('\n') + "\n\n" + section;
        // Measured once against the code before a change, by hand: a new measurement must not erase it.
        var before = document.IndexOf("\n" + BeforeHeading, start, end - start, StringComparison.Ordinal);
        return document[..start] + section + (before < 0 ? "" : document[(before + 1)..end]) + document[end..];
    }

    /// <summary>The document's "## Traced pass" section, kept when the other sections are measured again; or null.</summary>
    public static string? Measured(string document)
    {
        var (start, end) = Find(document);
        return start < 0 ? null : document[start..end];
    }

    private static (int Start, int End) Find(string document)
    {
        var start = document.StartsWith(Heading + "\n", StringComparison.Ordinal) ? 0
            : document.IndexOf("\n" + Heading + "\n", StringComparison.Ordinal) is var at and >= 0 ? at + 1 : -1;
        if (start < 0) return (-1, -1);
        var next = document.IndexOf("\n## ", start, StringComparison.Ordinal);
        return (start, next < 0 ? document.Length : next + 1);
    }

    private static PassPhases Pass()
    {
        // Warm, as the runner's warmup warms a workload: a first call's static constructor is no leak.
        var work = Workloads.Leak(1_024);
        for (var i = 0; i < 100; i++) work();
        Workloads.ClearLeaks();
        using var session = new SamplingSession(new LeakOptions().SessionBufferMB);
        ProfileSet? profiles;
        using (ForcedGc.NoBackgroundGc())
        {
            if (!session.TryStart()) throw new InvalidOperationException("no session: " + session.Problem);
            try
            {
                Loop(work);
            }
            finally
            {
                session.Stop();
            }
        }
        profiles = session.ReadProfiles(new StackTrim(typeof(TracedPassCost).FullName + ".", null), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        Workloads.ClearLeaks();
        var top = profiles is null ? null : Top.Of(profiles.Diff, SampleValue.InuseSpace);
        if (top is not { Rows: [var first, ..] } || !first.Function.EndsWith("Workloads.Leak1024", StringComparison.Ordinal))
            throw new InvalidOperationException("the traced pass did not name the leak: " + (session.Problem ?? string.Join(", ", top?.Rows.Select(r => r.Function) ?? [])));
        var frame = profiles!.Diff.Samples.SelectMany(s => s.Stack).First(f => f.Function.EndsWith("Workloads.Leak1024", StringComparison.Ordinal));
        if (frame.File is null || frame.Line <= 0) throw new InvalidOperationException($"the leak's frame has no source line: {frame}");
        return session.Phases;
    }

    // The checkpoints as the runner writes them: a forced GC, then the event that marks it in the trace.
    private static void Loop(Action work)
    {
        ForcedGc.SettledRetainedBytes();
        CheckpointEvents.Log.Checkpoint(0);
        for (var k = 1; k <= Checkpoints; k++)
        {
            for (var i = 0; i < Iterations / Checkpoints; i++) work();
            ForcedGc.RetainedBytes();
            CheckpointEvents.Log.Checkpoint(k);
        }
    }
}
