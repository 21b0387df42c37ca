using LeakAssert.Profiles;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;
using Microsoft.Diagnostics.Tracing.Parsers.Tpl;

namespace LeakAssert.Sampling;

/// <summary>
/// Reads a finished .nettrace: replays GC survival and movement over the sampled addresses, notes which samples were
/// alive at the checkpoints, and keeps only the workload's samples, their stacks trimmed to start at it. A sample on
/// another thread is the workload's too when the task or thread that ran it was scheduled or started by the workload
/// (<see cref="WorkOrigins"/>); the rest are other threads' and kept apart, their stacks whole.
/// </summary>
internal static class TraceReader
{
    /// <param name="tracePath">The finished .nettrace.</param>
    /// <param name="trim">Where stacks are cut: the runner's first frame and all below it (the test framework) go.</param>
    /// <param name="phases">Where the time and allocations of parsing and resolving are noted.</param>
    public static SamplingResult Read(string tracePath, StackTrim trim, PassPhases phases)
    {
        phases.TraceBytes = new FileInfo(tracePath).Length;
        // One streaming pass over the file: the code map, the GC replay and the samples are all built from it in order.
        using var source = new EventPipeEventSource(tracePath);
        using var code = new CodeMap(source);
        var replay = new LivenessReplay();
        var origins = new WorkOrigins();
        var raw = new List<RawSample>();
        var checkpoints = new Dictionary<int, bool[]>();
        var concurrentGcs = 0;
        var checkpointsSeen = 0;
        var (events, rundownEvents) = (0, 0);
        var (rundownFirst, rundownLast) = (double.NaN, double.NaN);

        var clr = source.Clr;
        clr.AllocationSampling += a =>
            raw.Add(new RawSample(replay.Allocated(a.Address), a.TypeName, a.ObjectSize, checkpointsSeen, code.Holding(EventStacks.Of(a)), origins.Current(a.ThreadID)));
        clr.ThreadCreating += t => origins.ThreadCreating(t.ThreadID, t.ThreadStartWorkID, code.Holding(EventStacks.Of(t)));
        clr.ThreadRunning += t => origins.ThreadRunning(t.ThreadID, t.ThreadStartWorkID);
        clr.GCStart += s => replay.GcStarted(s.Depth);
        clr.GCGenerationRange += r => replay.GenerationRange(r.Generation, r.RangeStart, r.RangeReservedLength);
        clr.GCBulkMovedObjectRanges += m =>
        {
            for (var i = 0; i < m.Count; i++)
            {
                var v = m.Values(i);
                replay.Moved(v.OldRangeBase, v.NewRangeBase, v.RangeLength);
            }
        };
        clr.GCBulkSurvivingObjectRanges += sv =>
        {
            for (var i = 0; i < sv.Count; i++)
            {
                var v = sv.Values(i);
                replay.Survived(v.RangeBase, v.RangeLength);
            }
        };
        clr.GCGlobalHeapHistory += h =>
        {
            if ((h.GlobalMechanisms & GCGlobalMechanisms.Concurrent) != 0) concurrentGcs++;
            replay.HeapHistory();
        };
        clr.GCStop += _ => replay.GcEnded();
        var tpl = new TplEtwProviderTraceEventParser(source);
        tpl.TaskScheduledSend += t => origins.TaskScheduled(t.ThreadID, t.TaskID, code.Holding(EventStacks.Of(t)));
        tpl.TaskExecuteStart += t => origins.TaskStarted(t.ThreadID, t.TaskID);
        tpl.TaskExecuteStop += t => origins.TaskCompleted(t.ThreadID, t.TaskID);
        source.Dynamic.AddCallbackForProviderEvent(CheckpointEvents.ProviderName, null, e =>
        {
            if (e.PayloadValue(0) is not int index) return;
            var alive = new bool[replay.Count];
            for (var id = 0; id < alive.Length; id++) alive[id] = replay.IsAlive(id);
            checkpoints[index] = alive;
            checkpointsSeen++;
        });
        source.AllEvents += e =>
        {
            events++;
            if (e.ProviderGuid != ClrRundownTraceEventParser.ProviderGuid) return;
            rundownEvents++;
            if (double.IsNaN(rundownFirst)) rundownFirst = e.TimeStampRelativeMSec;
            rundownLast = e.TimeStampRelativeMSec;
        };
        phases.Measure("parse", source.Process);
        phases.Events = (events, rundownEvents);
        phases.Rundown = rundownEvents == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(rundownLast - rundownFirst);

        string? problem = null;
        if (source.EventsLost > 0) problem = $"the EventPipe session lost {source.EventsLost} events, so liveness and sites cannot be trusted";
        else if (concurrentGcs > 0) problem = $"{concurrentGcs} background GC(s) ran inside the window, so liveness cannot be replayed";
        else if (checkpoints.Count < 2) problem = "the checkpoint events did not reach the trace";
        if (problem is not null) return new SamplingResult([], [], raw.Count, 0, 0, problem);

        // The session may start at the measured run's baseline or later, at the repeat pass: its first checkpoint.
        var baseline = checkpoints[checkpoints.Keys.Min()];
        var end = checkpoints[checkpoints.Keys.Max()];
        return phases.Measure("resolve", () => Resolve(code, raw, baseline, end, trim));
    }

    private static SamplingResult Resolve(CodeMap code, List<RawSample> raw, bool[] baseline, bool[] end, StackTrim trim)
    {
        var symbols = new StackResolver(code);
        var kept = new List<SampledAllocation>();
        var others = new List<SampledAllocation>();
        var foreign = 0;
        var linked = 0;
        foreach (var s in raw)
        {
            SampledAllocation With(IReadOnlyList<Frame> stack) => new(
                stack, s.TypeName, s.Size,
                AllocatedBeforeBaseline: s.CheckpointsBefore == 0,
                AliveAtBaseline: s.Id < baseline.Length && baseline[s.Id],
                AliveAtEnd: s.Id < end.Length && end[s.Id]);
            var stack = symbols.Resolve(s.Stack, s.Origin, trim, out var throughOrigin);
            if (stack is not null)
            {
                kept.Add(With(stack));
                if (throughOrigin) linked++;
                continue;
            }
            foreign++;
            if (symbols.Whole(s.Stack) is { } whole) others.Add(With(whole));
        }
        return new SamplingResult(kept, others, raw.Count, foreign, linked, null);
    }

    // Stack: return addresses, leaf first; null when the event had no stack.
    private readonly record struct RawSample(int Id, string TypeName, long Size, int CheckpointsBefore, ulong[]? Stack, WorkOrigin? Origin);

    /// <summary>Turns stacks into trimmed frames with file:line from the workload's portable PDBs.</summary>
    private sealed class StackResolver(CodeMap code)
    {
        private static readonly string OwnModule = typeof(TraceReader).Assembly.GetName().Name ?? "";

        // Deeper chains (a task that schedules a task that starts a thread ...) are followed this far.
        private const int MaxLinks = 16;

        // Samples share their stack arrays by content only; a stack's cut is cached by the array itself.
        private readonly Dictionary<ulong[], IReadOnlyList<Frame>?> _stacks = new(ReferenceEqualityComparer.Instance);

        /// <summary>
        /// The workload's part of a sample's stack, or null when it is not the workload's. Its own stack when that
        /// passes through the workload; else its frames down to where its thread took up the task or started, then
        /// the stack that scheduled or started that work, and so on until one passes through the workload.
        /// </summary>
        /// <remarks><paramref name="throughOrigin"/> says whether the stack was found through the work's origin.</remarks>
        public IReadOnlyList<Frame>? Resolve(ulong[]? addresses, WorkOrigin? origin, StackTrim trim, out bool throughOrigin)
        {
            throughOrigin = false;
            if (addresses is null) return null;
            if (!_stacks.TryGetValue(addresses, out var own))
            {
                var cut = WorkloadCut(addresses, trim);
                _stacks[addresses] = own = cut <= 0 ? null : addresses.Take(cut).Select(code.FrameOf).ToArray();
            }
            if (own is not null || origin is null) return own;

            var path = new List<ulong>(UpToWorkEntry(addresses));
            for (var (o, links) = (origin, 0); o is not null && links < MaxLinks; o = o.Parent, links++)
            {
                if (o.Stack is null) return null;
                var cause = WithoutTracing(o.Stack);
                // The pool, timers and sockets start their shared threads from whichever stack first needs one.
                if (o.Kind == WorkKind.Thread && !StartedByUserCode(cause)) return null;
                var cut = WorkloadCut(cause, trim);
                if (cut > 0)
                {
                    path.AddRange(cause.Take(cut));
                    throughOrigin = true;
                    return path.Select(code.FrameOf).ToArray();
                }
                path.AddRange(UpToWorkEntry(cause));
            }
            return null;
        }

        /// <summary>A stack as it is, leaf first, down to its thread's first frame; null when the sample has none.</summary>
        public IReadOnlyList<Frame>? Whole(ulong[]? addresses) => addresses?.Select(code.FrameOf).ToArray();

        // How many frames, leaf first, are the workload's: up to the runner's frame, or for async workloads up to the
        // outermost frame of the workload's module; 0 when the stack is not the workload's.
        private int WorkloadCut(ulong[] addresses, StackTrim trim)
        {
            int loop = -1, outermostUser = -1;
            for (var i = 0; i < addresses.Length; i++)
            {
                if (trim.IsRunner(code.MethodName(addresses[i]))) { loop = i; break; }
                if (trim.AsyncModule is not null && code.ModuleName(addresses[i]) == trim.AsyncModule) outermostUser = i;
            }
            // A runner frame that is not the workload loop's is LeakAssert's own work (a checkpoint reading the GC's
            // figures allocates there): seen once as a -100 kB sample of GC.GetGCMemoryInfo in a workload's profile.
            if (loop >= 0 && !trim.CallsWorkload(code.MethodName(addresses[loop]))) return 0;
            var cut = loop >= 0 ? loop : outermostUser + 1;
            // A [LeakTest] body with arguments is called through reflection by the adapter: those frames sit between
            // the loop and the test method and name nothing the user wrote.
            while (cut > 1 && trim.IsGlue(code.MethodName(addresses[cut - 1]))) cut--;
            // Below the runner but called by LeakAssert itself (the session's start and stop, a checkpoint's event):
            // not the workload, and a task it schedules is not the workload's either.
            return cut > 0 && code.ModuleName(addresses[cut - 1]) != OwnModule ? cut : 0;
        }

        // A pool thread's or a started thread's own frames below the one that ran the task or the thread's method
        // say nothing about where the work came from.
        private IEnumerable<ulong> UpToWorkEntry(ulong[] addresses)
        {
            var entry = Array.FindIndex(addresses, a => code.MethodName(a) is var m
                && (m.StartsWith("System.Threading.Tasks.Task.ExecuteWithThreadLocal(", StringComparison.Ordinal)
                    || m.StartsWith("System.Threading.Thread.StartCallback(", StringComparison.Ordinal)));
            return entry < 0 ? addresses : addresses.Take(entry + 1);
        }

        // The frames that only write the TaskScheduled event sit on top of the stack that scheduled the task.
        private ulong[] WithoutTracing(ulong[] addresses)
        {
            var skip = 0;
            while (skip < addresses.Length && code.MethodName(addresses[skip]) is var m
                && (m.StartsWith("System.Diagnostics.Tracing.", StringComparison.Ordinal)
                    || m.StartsWith("System.Threading.Tasks.TplEventSource.", StringComparison.Ordinal)
                    || m.StartsWith("System.Threading.Tasks.Task.FireTaskScheduledIfNeeded(", StringComparison.Ordinal)))
                skip++;
            return addresses[skip..];
        }

        // Whether the code that called Thread.Start is the user's, not the framework's.
        private bool StartedByUserCode(ulong[] creating)
        {
            var caller = Array.FindIndex(creating, a => !code.MethodName(a).StartsWith("System.Threading.Thread.", StringComparison.Ordinal));
            return caller >= 0 && code.ModulePath(creating[caller]) is { } module && !CodeMap.IsFramework(module);
        }
    }
}
