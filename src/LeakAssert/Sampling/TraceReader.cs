using LeakAssert.Profiles;
using Microsoft.Diagnostics.Symbols;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LeakAssert.Sampling;

/// <summary>
/// Reads a finished .nettrace: replays GC survival and movement over the sampled addresses, notes which samples were
/// alive at the checkpoints, and keeps only the workload's samples, their stacks trimmed to start at it.
/// </summary>
internal static class TraceReader
{
    /// <param name="tracePath">The finished .nettrace.</param>
    /// <param name="trim">Where stacks are cut: the runner's first frame and all below it (the test framework) go.</param>
    public static SamplingResult Read(string tracePath, StackTrim trim)
    {
        var etlxPath = Path.ChangeExtension(tracePath, ".etlx");
        TraceLog.CreateFromEventPipeDataFile(tracePath, etlxPath, new TraceLogOptions { ContinueOnError = false });
        using var log = new TraceLog(etlxPath);

        var replay = new LivenessReplay();
        var raw = new List<RawSample>();
        var checkpoints = new Dictionary<int, bool[]>();
        var concurrentGcs = 0;
        var checkpointsSeen = 0;

        var source = log.Events.GetSource();
        source.AllEvents += e =>
        {
            switch (e)
            {
                case AllocationSampledTraceData a:
                    raw.Add(new RawSample(replay.Allocated(a.Address), a.TypeName, a.ObjectSize, checkpointsSeen, e.CallStackIndex()));
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
        source.Process();

        string? problem = null;
        if (log.EventsLost > 0) problem = $"the EventPipe session lost {log.EventsLost} events, so liveness and sites cannot be trusted";
        else if (concurrentGcs > 0) problem = $"{concurrentGcs} background GC(s) ran inside the window, so liveness cannot be replayed";
        else if (checkpoints.Count < 2) problem = "the checkpoint events did not reach the trace";
        if (problem is not null) return new SamplingResult([], raw.Count, 0, problem);

        // The session may start at the measured run's baseline or later, at the repeat pass: its first checkpoint.
        var baseline = checkpoints[checkpoints.Keys.Min()];
        var end = checkpoints[checkpoints.Keys.Max()];
        using var symbols = new StackResolver(log);
        var kept = new List<SampledAllocation>();
        var foreign = 0;
        foreach (var s in raw)
        {
            var stack = symbols.Resolve(s.Stack, trim);
            if (stack is null) { foreign++; continue; }
            kept.Add(new SampledAllocation(
                stack, s.TypeName, s.Size,
                AllocatedBeforeBaseline: s.CheckpointsBefore == 0,
                AliveAtBaseline: s.Id < baseline.Length && baseline[s.Id],
                AliveAtEnd: s.Id < end.Length && end[s.Id]));
        }
        return new SamplingResult(kept, raw.Count, foreign, null);
    }

    private readonly record struct RawSample(int Id, string TypeName, long Size, int CheckpointsBefore, CallStackIndex Stack);

    /// <summary>Turns call stacks into trimmed frames with file:line from the workload's portable PDBs.</summary>
    private sealed class StackResolver(TraceLog log) : IDisposable
    {
        private readonly SymbolReader _reader = new(TextWriter.Null, SymbolPath()) { SecurityCheck = _ => true };
        private readonly Dictionary<CodeAddressIndex, Frame> _frames = [];
        private readonly Dictionary<CallStackIndex, IReadOnlyList<Frame>?> _stacks = [];
        private readonly HashSet<ModuleFileIndex> _loadedModules = [];

        public IReadOnlyList<Frame>? Resolve(CallStackIndex index, StackTrim trim)
        {
            if (index == CallStackIndex.Invalid) return null;
            if (_stacks.TryGetValue(index, out var cached)) return cached;
            var stacks = log.CallStacks;
            var addresses = new List<CodeAddressIndex>();
            int loop = -1, outermostUser = -1;
            for (var i = index; i != CallStackIndex.Invalid; i = stacks.Caller(i))
            {
                var address = stacks.CodeAddressIndex(i);
                var name = MethodName(address);
                if (trim.IsRunner(name)) { loop = addresses.Count; break; }
                if (trim.AsyncModule is not null && ModuleName(address) == trim.AsyncModule) outermostUser = addresses.Count;
                addresses.Add(address);
            }
            var cut = loop >= 0 ? loop : outermostUser + 1;
            // A [LeakTest] body with arguments is called through reflection by the adapter: those frames sit between
            // the loop and the test method and name nothing the user wrote.
            while (cut > 1 && trim.IsGlue(MethodName(addresses[cut - 1]))) cut--;
            IReadOnlyList<Frame>? result = cut <= 0 ? null : addresses.Take(cut).Select(FrameOf).ToArray();
            _stacks[index] = result;
            return result;
        }

        public void Dispose() => _reader.Dispose();

        private string MethodName(CodeAddressIndex address) =>
            log.CodeAddresses.MethodIndex(address) is var m && m != MethodIndex.Invalid ? log.CodeAddresses.Methods.FullMethodName(m) : "";

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
