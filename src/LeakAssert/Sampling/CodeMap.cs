using LeakAssert.Profiles;
using Microsoft.Diagnostics.Symbols;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LeakAssert.Sampling;

/// <summary>
/// The process's managed code as its trace describes it: modules from the loader's events, methods (code range, name,
/// token) from the JIT's events during the session and the rundown's at its end, and each method's IL-to-native map,
/// which with the module's portable PDB gives a frame its source line. Read in the same pass as the samples; it
/// replaces TraceLog's .etlx conversion, which cost more time and memory than everything else in reading a trace.
/// </summary>
internal sealed class CodeMap : IDisposable
{
    private readonly Dictionary<long, Module> _modules = [];
    private readonly List<Method> _methods = [];
    // The JIT writes a method's map right after its load event; the rundown writes it right before its end event, so
    // one slot holds the rundown's last map until its method comes.
    private readonly Dictionary<long, Method> _lastJitted = [];
    private readonly List<(int Native, int Il)> _rundownMap = [];
    private long _rundownMapMethod = -1;
    // The addresses the trace's stacks hold: the rundown comes last and names every method in the process, so only
    // those it needs to are kept (building every name cost more than the rest of the parse).
    private readonly HashSet<ulong> _needed = [];
    private ulong[] _neededSorted = [];
    private readonly Dictionary<ulong, Frame> _frames = [];
    private readonly SymbolReader _symbols = new(TextWriter.Null, SymbolPath()) { SecurityCheck = _ => true };
    private bool _sorted;

    /// <summary>Listens to the source's loader, JIT and rundown events.</summary>
    public CodeMap(EventPipeEventSource source)
    {
        source.Clr.LoaderModuleLoad += AddModule;
        source.Clr.MethodLoadVerbose += m => _lastJitted[m.MethodID] = Add(m, null);
        source.Clr.MethodILToNativeMap += m =>
        {
            if (_lastJitted.TryGetValue(m.MethodID, out var method)) method.Map = IlMap.Of(m);
        };
        var rundown = new ClrRundownTraceEventParser(source);
        rundown.LoaderModuleDCStop += AddModule;
        rundown.MethodILToNativeMapDCStop += m =>
        {
            _rundownMapMethod = m.MethodID;
            IlMap.Read(m, _rundownMap);
        };
        rundown.MethodDCStopVerbose += m =>
        {
            if (!Needed(m.MethodStartAddress, m.MethodSize)) return;
            Add(m, _rundownMapMethod == m.MethodID ? IlMap.From(_rundownMap) : null);
        };
    }

    /// <summary>Notes a stack's addresses: a method the rundown names is kept only when a stack holds its code.</summary>
    public ulong[]? Holding(ulong[]? stack)
    {
        if (stack is not null)
            foreach (var address in stack)
                if (_needed.Add(address)) _neededSorted = [];
        return stack;
    }

    /// <summary>The method's full name ("Ns.Type.Method(args)"), or "" for code outside every known method.</summary>
    public string MethodName(ulong address) => Find(address)?.Name ?? "";

    /// <summary>The short name of the method's module file (no extension), or "".</summary>
    public string ModuleName(ulong address) => Find(address) is { } m && _modules.TryGetValue(m.ModuleId, out var module) ? module.Name : "";

    /// <summary>The method's module file, or null.</summary>
    public string? ModulePath(ulong address) => Find(address) is { } m && _modules.TryGetValue(m.ModuleId, out var module) ? module.Path : null;

    /// <summary>The frame at this address, with its source line when the module is not the framework's and has a PDB.</summary>
    public Frame FrameOf(ulong address)
    {
        if (_frames.TryGetValue(address, out var frame)) return frame;
        var method = Find(address);
        if (method is null) return _frames[address] = new Frame("?", "", null, 0);
        var module = _modules.GetValueOrDefault(method.ModuleId);
        string? file = null;
        var line = 0;
        if (module is not null && method.Token != 0 && !IsFramework(module.Path) && module.Pdb(_symbols) is { } pdb)
        {
            // Prologue and epilogue come back as negative offsets: the method's first line stands for them.
            var ilOffset = Math.Max(0, method.Map?.IlOffset(address - method.Start) ?? 0);
            if (pdb.SourceLocationForManagedCode((uint)method.Token, ilOffset) is { } source)
            {
                file = source.SourceFile?.BuildTimeFilePath;
                line = source.LineNumber;
            }
        }
        return _frames[address] = new Frame(Frame.ShortName(method.Name), module?.Name ?? "", file, line);
    }

    /// <summary>Framework assemblies ship without PDBs offline; looking for them only costs time.</summary>
    public static bool IsFramework(string path) =>
        path.StartsWith(Path.GetDirectoryName(typeof(object).Assembly.Location) ?? "\0", StringComparison.Ordinal);

    public void Dispose() => _symbols.Dispose();

    private void AddModule(ModuleLoadUnloadTraceData m) =>
        _modules[m.ModuleID] = new Module(m.ModuleILPath, m.ManagedPdbBuildPath, m.ManagedPdbSignature, m.ManagedPdbAge);

    private Method Add(MethodLoadUnloadVerboseTraceData m, IlMap? map)
    {
        var signature = m.MethodSignature;
        var args = signature.IndexOf('(') is var paren and >= 0 ? signature[paren..] : "";
        var method = new Method(m.MethodStartAddress, m.MethodSize, m.ModuleID, m.MethodToken, m.MethodNamespace + "." + m.MethodName + args, _methods.Count) { Map = map };
        _methods.Add(method);
        _sorted = false;
        return method;
    }

    private bool Needed(ulong start, int size)
    {
        if (_neededSorted.Length != _needed.Count)
        {
            _neededSorted = [.. _needed];
            Array.Sort(_neededSorted);
        }
        var at = Array.BinarySearch(_neededSorted, start);
        if (at < 0) at = ~at;
        return at < _neededSorted.Length && _neededSorted[at] < start + (ulong)size;
    }

    // Code of a method freed and reused by another may overlap it: the later event describes the address as it is.
    private Method? Find(ulong address)
    {
        if (!_sorted)
        {
            _methods.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Order.CompareTo(b.Order));
            _sorted = true;
        }
        int lo = 0, hi = _methods.Count - 1, last = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_methods[mid].Start <= address) { last = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        Method? found = null;
        for (var i = last; i >= 0 && i > last - 8; i--)
            if (_methods[i].Contains(address) && (found is null || _methods[i].Order > found.Order)) found = _methods[i];
        return found;
    }

    private static string SymbolPath() =>
        string.Join(';', AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && a.Location.Length > 0)
            .Select(a => Path.GetDirectoryName(a.Location))
            .Where(d => d is not null)
            .Distinct());

    private sealed record Method(ulong Start, int Size, long ModuleId, int Token, string Name, int Order)
    {
        public IlMap? Map { get; set; }

        public bool Contains(ulong address) => address >= Start && address < Start + (ulong)Size;
    }

    private sealed class Module(string path, string pdbPath, Guid pdbGuid, int pdbAge)
    {
        private bool _looked;
        private ManagedSymbolModule? _pdb;

        public string Path { get; } = path;

        public string Name { get; } = System.IO.Path.GetFileNameWithoutExtension(path);

        // The PDB the module was built with, matched by its signature: a PDB rebuilt since would give wrong lines. A
        // module without a signature in the trace has only the one beside it, or embedded in it.
        public ManagedSymbolModule? Pdb(SymbolReader reader)
        {
            if (_looked) return _pdb;
            _looked = true;
            if (pdbGuid != Guid.Empty)
                _pdb = reader.FindSymbolFilePath(pdbPath, pdbGuid, pdbAge, Path, "", portablePdbMatch: true) is { } file ? reader.OpenSymbolFile(file) : null;
            else if (File.Exists(Path))
                _pdb = reader.FindSymbolFilePathForModule(Path) is { } file ? reader.OpenSymbolFile(file) : reader.OpenEmbeddedPortablePdb(Path);
            return _pdb;
        }
    }

    /// <summary>Native offsets to IL offsets for one compiled body, sorted by native offset.</summary>
    private sealed class IlMap(int[] native, int[] il)
    {
        public static IlMap Of(MethodILToNativeMapTraceData m)
        {
            var pairs = new List<(int Native, int Il)>(m.CountOfMapEntries);
            Read(m, pairs);
            return From(pairs);
        }

        /// <summary>The event's entries into a reused list.</summary>
        public static void Read(MethodILToNativeMapTraceData m, List<(int Native, int Il)> pairs)
        {
            pairs.Clear();
            // Negative IL offsets mark the prologue, the epilogue and unmapped code: left out, the nearest real offset
            // before them gives the better line.
            for (var i = 0; i < m.CountOfMapEntries; i++)
                if (m.ILOffset(i) is var il and >= 0) pairs.Add((m.NativeOffset(i), il));
        }

        public static IlMap From(List<(int Native, int Il)> pairs)
        {
            var sorted = pairs.OrderBy(p => p.Native).ToArray();
            return new IlMap([.. sorted.Select(p => p.Native)], [.. sorted.Select(p => p.Il)]);
        }

        /// <summary>
        /// The IL offset of the instruction before a native offset, interpolated between the map's entries; -1 when the
        /// offset is before the first entry. A stack's addresses are return addresses (or the allocation's next
        /// instruction), so the instruction that ran is the one before.
        /// </summary>
        public int IlOffset(ulong nativeOffset)
        {
            if (nativeOffset > int.MaxValue) return -1;
            var offset = (int)nativeOffset;
            var at = Array.BinarySearch(native, offset);
            if (at < 0) at = ~at - 1;
            // Equal native offsets: the last of them, as a sorted search for "at or below" finds.
            while (at >= 0 && at + 1 < native.Length && native[at + 1] == offset) at++;
            if (at < 0) return -1;
            var result = il[at];
            var past = offset - native[at];
            if (at + 1 < native.Length && past != 0)
            {
                var ilToNext = il[at + 1] - il[at];
                // Going back in IL (a loop's condition placed after its body): no interpolation, and no step back.
                if (ilToNext <= 0) return result;
                result += (int)((double)past / (native[at + 1] - native[at]) * ilToNext + .5);
            }
            return result > 0 ? result - 1 : result;
        }
    }
}
