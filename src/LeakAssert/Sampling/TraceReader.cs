using LeakAssert.Profiles;
using Microsoft.Diagnostics.Symbols;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
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
    /// <param name="phases">Where the time and allocations of converting, parsing and resolving are noted.</param>
    public static SamplingResult Read(string tracePath, StackTrim trim, PassPhases phases)
    {
        phases.TraceBytes = new FileInfo(tracePath).Length;
        var etlxPath = Path.ChangeExtension(tracePath, ".etlx");
        using var log = phases.Measure("convert", () =>
        {
            TraceLog.CreateFromEventPipeDataFile(tracePath, etlxPath, new TraceLogOptions { ContinueOnError = false });
            return new TraceLog(etlxPath);
        });

        var replay = new LivenessReplay();
        var origins = new WorkOrigins();
        var raw = new List<RawSample>();
        var checkpoints = new Dictionary<int, bool[]>();
        var concurrentGcs = 0;
        var checkpointsSeen = 0;
        var (events, rundownEvents) = (0, 0);
        var (rundownFirst, rundownLast) = (double.NaN, double.NaN);

        var source = log.Events.GetSource();
        source.AllEvents += e =>
        {
            events++;
            if (e.ProviderGuid == ClrRundownTraceEventParser.ProviderGuid)
            {
                rundownEvents++;
                if (double.IsNaN(rundownFirst)) rundownFirst = e.TimeStampRelativeMSec;
                rundownLast = e.TimeStampRelativeMSec;
            }
            switch (e)
            {
                case AllocationSampledTraceData a:
                    raw.Add(new RawSample(replay.Allocated(a.Address), a.TypeName, a.ObjectSize, checkpointsSeen, e.CallStackIndex(), origins.Current(e.ThreadID)));
                    break;
                case TaskScheduledArgs t:
                    origins.TaskScheduled(e.ThreadID, t.TaskID, e.CallStackIndex());
                    break;
                case TaskStartedArgs t:
                    origins.TaskStarted(e.ThreadID, t.TaskID);
                    break;
                case TaskCompletedArgs t:
                    origins.TaskCompleted(e.ThreadID, t.TaskID);
                    break;
                case ThreadStartWorkTraceData t when e.ID == ThreadCreatingId:
                    origins.ThreadCreating(e.ThreadID, t.ThreadStartWorkID, e.CallStackIndex());
                    break;
                case ThreadStartWorkTraceData t when e.ID == ThreadRunningId:
                    origins.ThreadRunning(e.ThreadID, t.ThreadStartWorkID);
                    break;
                case GCStartTraceData s:
                    replay.GcStarted(s.Depth);
                    break;
                case GCGenerationRangeTraceData r:
                    replay.GenerationRange(r.Generation, r.RangeStart, r.RangeReservedLength);
                    break;
                case GCBulkMovedObjectRangesTraceData m:
                    for (var i = 0; i < m.Count; i++)
                    {
                        var v = m.Values(i);
                        replay.Moved(v.OldRangeBase, v.NewRangeBase, v.RangeLength);
                    }
                    break;
                case GCBulkSurvivingObjectRangesTraceData sv:
                    for (var i = 0; i < sv.Count; i++)
                    {
                        var v = sv.Values(i);
                        replay.Survived(v.RangeBase, v.RangeLength);
                    }
                    break;
                case GCGlobalHeapHistoryTraceData h:
                    if ((h.GlobalMechanisms & GCGlobalMechanisms.Concurrent) != 0) concurrentGcs++;
                    replay.HeapHistory();
                    break;
                case GCEndTraceData:
                    replay.GcEnded();
                    break;
                default:
                    if (e.ProviderName == CheckpointEvents.ProviderName && e.PayloadValue(0) is int index)
                    {
                        var alive = new bool[replay.Count];
                        for (var id = 0; id < alive.Length; id++) alive[id] = replay.IsAlive(id);
                        checkpoints[index] = alive;
                        checkpointsSeen++;
                    }
                    break;
            }
        };
        phases.Measure("parse", source.Process);
        phases.Events = (events, rundownEvents);
        phases.Rundown = rundownEvents == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(rundownLast - rundownFirst);

        string? problem = null;
        if (log.EventsLost > 0) problem = $"the EventPipe session lost {log.EventsLost} events, so liveness and sites cannot be trusted";
        else if (concurrentGcs > 0) problem = $"{concurrentGcs} background GC(s) ran inside the window, so liveness cannot be replayed";
        else if (checkpoints.Count < 2) problem = "the checkpoint events did not reach the trace";
        if (problem is not null) return new SamplingResult([], [], raw.Count, 0, 0, problem);

        // The session may start at the measured run's baseline or later, at the repeat pass: its first checkpoint.
        var baseline = checkpoints[checkpoints.Keys.Min()];
        var end = checkpoints[checkpoints.Keys.Max()];
        return phases.Measure("resolve", () => Resolve(log, raw, baseline, end, trim));
    }

    private static SamplingResult Resolve(TraceLog log, List<RawSample> raw, bool[] baseline, bool[] end, StackTrim trim)
    {
        using var symbols = new StackResolver(log);
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

    // The runtime's Thread/Creating (on the starting thread) and Thread/Running (on the new one) share one type.
    private const TraceEventID ThreadCreatingId = (TraceEventID)70;
    private const TraceEventID ThreadRunningId = (TraceEventID)71;

    private readonly record struct RawSample(int Id, string TypeName, long Size, int CheckpointsBefore, CallStackIndex Stack, WorkOrigin? Origin);

    /// <summary>Turns call stacks into trimmed frames with file:line from the workload's portable PDBs.</summary>
    private sealed class StackResolver(TraceLog log) : IDisposable
    {
        private static readonly string OwnModule = typeof(TraceReader).Assembly.GetName().Name ?? "";

        // Deeper chains (a task that schedules a task that starts a thread ...) are followed this far.
        private const int MaxLinks = 16;

        private readonly SymbolReader _reader = new(TextWriter.Null, SymbolPath()) { SecurityCheck = _ => true };
        private readonly Dictionary<CodeAddressIndex, Frame> _frames = [];
        private readonly Dictionary<CodeAddressIndex, string> _names = [];
        private readonly Dictionary<CallStackIndex, CodeAddressIndex[]> _addresses = [];
        private readonly Dictionary<CallStackIndex, IReadOnlyList<Frame>?> _stacks = [];
        private readonly HashSet<ModuleFileIndex> _loadedModules = [];

        /// <summary>
        /// The workload's part of a sample's stack, or null when it is not the workload's. Its own stack when that
        /// passes through the workload; else its frames down to where its thread took up the task or started, then
        /// the stack that scheduled or started that work, and so on until one passes through the workload.
        /// </summary>
        /// <remarks><paramref name="throughOrigin"/> says whether the stack was found through the work's origin.</remarks>
        public IReadOnlyList<Frame>? Resolve(CallStackIndex index, WorkOrigin? origin, StackTrim trim, out bool throughOrigin)
        {
            throughOrigin = false;
            if (index == CallStackIndex.Invalid) return null;
            if (!_stacks.TryGetValue(index, out var own))
            {
                var addresses = Addresses(index);
                var cut = WorkloadCut(addresses, trim);
                _stacks[index] = own = cut <= 0 ? null : addresses.Take(cut).Select(FrameOf).ToArray();
            }
            if (own is not null || origin is null) return own;

            var path = new List<CodeAddressIndex>(UpToWorkEntry(Addresses(index)));
            for (var (o, links) = (origin, 0); o is not null && links < MaxLinks; o = o.Parent, links++)
            {
                if (o.Stack == CallStackIndex.Invalid) return null;
                var cause = WithoutTracing(Addresses(o.Stack));
                // The pool, timers and sockets start their shared threads from whichever stack first needs one.
                if (o.Kind == WorkKind.Thread && !StartedByUserCode(cause)) return null;
                var cut = WorkloadCut(cause, trim);
                if (cut > 0)
                {
                    path.AddRange(cause.Take(cut));
                    throughOrigin = true;
                    return path.Select(FrameOf).ToArray();
                }
                path.AddRange(UpToWorkEntry(cause));
            }
            return null;
        }

        /// <summary>A stack as it is, leaf first, down to its thread's first frame; null when the sample has none.</summary>
        public IReadOnlyList<Frame>? Whole(CallStackIndex index) =>
            index == CallStackIndex.Invalid ? null : Addresses(index).Select(FrameOf).ToArray();

        public void Dispose() => _reader.Dispose();

        private CodeAddressIndex[] Addresses(CallStackIndex index)
        {
            if (_addresses.TryGetValue(index, out var cached)) return cached;
            var addresses = new List<CodeAddressIndex>();
            for (var i = index; i != CallStackIndex.Invalid; i = log.CallStacks.Caller(i)) addresses.Add(log.CallStacks.CodeAddressIndex(i));
            return _addresses[index] = [.. addresses];
        }

        // How many frames, leaf first, are the workload's: up to the runner's frame, or for async workloads up to the
        // outermost frame of the workload's module; 0 when the stack is not the workload's.
        private int WorkloadCut(CodeAddressIndex[] addresses, StackTrim trim)
        {
            int loop = -1, outermostUser = -1;
            for (var i = 0; i < addresses.Length; i++)
            {
                if (trim.IsRunner(MethodName(addresses[i]))) { loop = i; break; }
                if (trim.AsyncModule is not null && ModuleName(addresses[i]) == trim.AsyncModule) outermostUser = i;
            }
            var cut = loop >= 0 ? loop : outermostUser + 1;
            // A [LeakTest] body with arguments is called through reflection by the adapter: those frames sit between
            // the loop and the test method and name nothing the user wrote.
            while (cut > 1 && trim.IsGlue(MethodName(addresses[cut - 1]))) cut--;
            // Below the runner but called by LeakAssert itself (the session's start and stop, a checkpoint's event):
            // not the workload, and a task it schedules is not the workload's either.
            return cut > 0 && ModuleName(addresses[cut - 1]) != OwnModule ? cut : 0;
        }

        // A pool thread's or a started thread's own frames below the one that ran the task or the thread's method
        // say nothing about where the work came from.
        private IEnumerable<CodeAddressIndex> UpToWorkEntry(CodeAddressIndex[] addresses)
        {
            var entry = Array.FindIndex(addresses, a => MethodName(a) is var m
                && (m.StartsWith("System.Threading.Tasks.Task.ExecuteWithThreadLocal(", StringComparison.Ordinal)
                    || m.StartsWith("System.Threading.Thread.StartCallback(", StringComparison.Ordinal)));
            return entry < 0 ? addresses : addresses.Take(entry + 1);
        }

        // The frames that only write the TaskScheduled event sit on top of the stack that scheduled the task.
        private CodeAddressIndex[] WithoutTracing(CodeAddressIndex[] addresses)
        {
            var skip = 0;
            while (skip < addresses.Length && MethodName(addresses[skip]) is var m
                && (m.StartsWith("System.Diagnostics.Tracing.", StringComparison.Ordinal)
                    || m.StartsWith("System.Threading.Tasks.TplEventSource.", StringComparison.Ordinal)
                    || m.StartsWith("System.Threading.Tasks.Task.FireTaskScheduledIfNeeded(", StringComparison.Ordinal)))
                skip++;
            return addresses[skip..];
        }

        // Whether the code that called Thread.Start is the user's, not the framework's.
        private bool StartedByUserCode(CodeAddressIndex[] creating)
        {
            var caller = Array.FindIndex(creating, a => !MethodName(a).StartsWith("System.Threading.Thread.", StringComparison.Ordinal));
            return caller >= 0 && log.CodeAddresses.ModuleFile(creating[caller]) is { } module && !IsFramework(module.FilePath);
        }

        private string MethodName(CodeAddressIndex address)
        {
            if (_names.TryGetValue(address, out var name)) return name;
            var m = log.CodeAddresses.MethodIndex(address);
            return _names[address] = m != MethodIndex.Invalid ? log.CodeAddresses.Methods.FullMethodName(m) : "";
        }

        private string ModuleName(CodeAddressIndex address) =>
            log.CodeAddresses.ModuleFile(address) is { } module ? module.Name : "";

        private Frame FrameOf(CodeAddressIndex address)
        {
            if (_frames.TryGetValue(address, out var frame)) return frame;
            var codes = log.CodeAddresses;
            var method = codes.MethodIndex(address);
            var name = method == MethodIndex.Invalid ? "?" : Frame.ShortName(codes.Methods.FullMethodName(method));
            var module = codes.ModuleFile(address);
            string? file = null;
            var line = 0;
            if (module is not null && method != MethodIndex.Invalid && !IsFramework(module.FilePath))
            {
                if (_loadedModules.Add(module.ModuleFileIndex)) codes.LookupSymbolsForModule(_reader, module);
                var source = codes.GetSourceLine(_reader, address);
                if (source is not null)
                {
                    file = source.SourceFile?.BuildTimeFilePath;
                    line = source.LineNumber;
                }
            }
            frame = new Frame(name, module?.Name ?? "", file, line);
            _frames[address] = frame;
            return frame;
        }

        // Framework assemblies ship without PDBs offline; looking for them only costs time.
        private static bool IsFramework(string path) =>
            path.StartsWith(Path.GetDirectoryName(typeof(object).Assembly.Location) ?? "\0", StringComparison.Ordinal);

        private static string SymbolPath() =>
            string.Join(';', AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => !a.IsDynamic && a.Location.Length > 0)
                .Select(a => Path.GetDirectoryName(a.Location))
                .Where(d => d is not null)
                .Distinct());
    }
}
