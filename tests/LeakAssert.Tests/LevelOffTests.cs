using System.Runtime.CompilerServices;
using LeakAssert.Measurement;
using LeakAssert.Verdicts;

namespace LeakAssert.Tests;

/// <summary>
/// A container that fills and stops grows in steps as its backing storage resizes, with flat stretches between: the
/// repeat pass runs until its flat end rules out a leak whose container still has room, and such a run passes. A
/// leak into a list or a dictionary still fails, because its content grows in every segment.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class LevelOffTests
{
    private static readonly LeakOptions Exact = new() { Sampling = SamplingMode.Off, HeapSnapshots = HeapSnapshotMode.Off };

    /// <summary>
    /// Sixteen tables of different starting sizes, each given one new key an iteration up to <see cref="Keys"/>, and
    /// then none: only their backing arrays' resizes are retained, each table's at its own iterations, so the measured
    /// pass rises in steps throughout while the last resizes come in the repeat pass.
    /// </summary>
    private sealed class BoundedTables
    {
        public const int Keys = 3_000;
        private readonly Dictionary<int, int>[] _tables = Enumerable.Range(0, 16).Select(t => new Dictionary<int, int>(100 + 61 * t)).ToArray();
        private int _next;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Touch()
        {
            if (_next >= Keys) return;
            foreach (var table in _tables) table[_next] = _next;
            _next++;
        }
    }

    /// <summary>
    /// Weak tables of a fixed pool of long-lived keys, as a framework keeps per-instance state: each table starts with
    /// a different number of keys, so that their doublings come at different iterations, and is full after <see cref="Keys"/>.
    /// </summary>
    private sealed class WeakCaches
    {
        public const int Keys = 3_000;
        private static readonly object Value = new();
        private readonly object[] _keys = Enumerable.Range(0, Keys + 16 * 97).Select(_ => new object()).ToArray();
        private readonly ConditionalWeakTable<object, object>[] _tables = Enumerable.Range(0, 16).Select(_ => new ConditionalWeakTable<object, object>()).ToArray();
        private int _next;

        public WeakCaches()
        {
            for (var t = 0; t < _tables.Length; t++)
                for (var k = 0; k < 97 * t; k++) _tables[t].TryAdd(_keys[Keys + k], Value);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Touch()
        {
            if (_next >= Keys) return;
            foreach (var table in _tables) table.TryAdd(_keys[_next], Value);
            _next++;
        }
    }

    private sealed class ListLeak
    {
        public readonly List<string> Kept = [];
        private int _next;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Add() => Kept.Add(new string((char)('a' + _next++ % 26), 500));
    }

    private sealed class DictionaryLeak
    {
        public readonly Dictionary<int, byte[]> Kept = [];
        private int _next;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Add() => Kept[_next++] = new byte[1_000];
    }

    private static LeakProfile Run(Action work, bool async)
    {
        var p = async
            ? Leak.ProfileAsync(async () => { work(); await Task.Yield(); }, 2_000, Exact).GetAwaiter().GetResult()
            : Leak.Profile(work, 2_000, Exact);
        return p;
    }

    // The measured pass alone reads as a leak; the repeat pass's flat end is what passes it.
    private static void LevelledOff(LeakProfile profile)
    {
        profile.Growth.ExceedsWhileRising(0).Should().BeTrue("the tables' resizes spread over the whole measured pass\n{0}", profile.Report());
        var verdict = Verdict.PerIteration(profile, 0.Bytes().PerIteration());
        verdict.Finding.Should().Contain("in steps with flat stretches between, as a resizing container does", profile.Report())
            .And.EndWith("the growth levelled off", profile.Report());
        profile.Report().Should().MatchRegex("Trend: rising over the measured iterations, in steps, then no higher over the last [0-9,]+ iterations of the repeat pass");
        profile.Should().NotRetainMoreThan(0.Bytes().PerIteration(), profile.Report());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_dictionary_that_fills_and_stops_passes(bool async)
    {
        var table = new BoundedTables();
        var profile = Run(table.Touch, async);

        LevelledOff(profile);
        GC.KeepAlive(table);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_weak_table_of_fixed_keys_that_fills_and_stops_passes(bool async)
    {
        var cache = new WeakCaches();
        var profile = Run(cache.Touch, async);

        LevelledOff(profile);
        GC.KeepAlive(cache);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_leak_into_a_list_still_fails(bool async)
    {
        var leak = new ListLeak();
        var profile = Run(leak.Add, async);

        var act = () => profile.Should().NotRetainMoreThan(0.Bytes().PerIteration());
        act.Should().Throw<Xunit.Sdk.XunitException>(profile.Report()).WithMessage("*still rising*");
        GC.KeepAlive(leak);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_leak_into_a_dictionary_still_fails(bool async)
    {
        var leak = new DictionaryLeak();
        var profile = Run(leak.Add, async);

        var act = () => profile.Should().NotRetainMoreThan(0.Bytes().PerIteration());
        act.Should().Throw<Xunit.Sdk.XunitException>(profile.Report()).WithMessage("*still rising*");
        GC.KeepAlive(leak);
    }
}
