using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LeakAssert.Snapshots;
using Xunit.Abstractions;

namespace LeakAssert.Tests;

/// <summary>
/// Heap snapshots of this test process and the retention paths they give, for the shapes leaks take in .NET: each
/// test makes about 200 instances of a class of its own held one way, and the largest group of paths to that class
/// must name the root and every step, and hold all of them.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class SnapshotTests(ITestOutputHelper output)
{
    private const int Count = 200;

    [Fact]
    public void A_static_dictionary_holds_its_values_through_its_entries()
    {
        SnapshotSessionCache.Fill(Count);
        try
        {
            var path = LargestGroup(typeof(CachedSession));

            path.Root.Should().Be("static field LeakAssert.Tests.SnapshotSessionCache._all");
            path.Steps.Should().Equal("Dictionary<Guid, CachedSession>._entries", "Dictionary<Guid, CachedSession>.Entry[]", "CachedSession");
        }
        finally
        {
            SnapshotSessionCache.Clear();
        }
    }

    [Fact]
    public void An_event_of_a_long_lived_publisher_holds_its_subscribers_through_the_delegates_it_calls()
    {
        EventPublisher.Main.Subscribe(Count);
        try
        {
            var path = LargestGroup(typeof(EventSubscriber));

            path.Root.Should().Be("static field LeakAssert.Tests.EventPublisher.Main");
            path.Steps.Should().Equal(
                "EventPublisher.Changed (event)", "EventHandler._invocationList (the delegates it calls)", "Object[]", "EventHandler._target", "EventSubscriber");
        }
        finally
        {
            EventPublisher.Main.Unsubscribe();
        }
    }

    [Fact]
    public void A_timer_whose_callback_is_its_owners_method_is_held_by_the_timer_queue()
    {
        var owners = TimerOwner.Start(Count);
        try
        {
            var path = LargestGroup(typeof(TimerOwner));

            path.Root.Should().Be("timer queue");
            path.Steps.Should().HaveCount(3);
            path.Steps[0].Should().StartWith("TimerQueueTimer (a chain of up to ", "the queue is a linked list of timers");
            path.Steps.Skip(1).Should().Equal("TimerCallback._target", "TimerOwner");
        }
        finally
        {
            TimerOwner.Stop(owners);
        }
    }

    [Fact]
    public void A_closure_kept_by_a_static_delegate_holds_what_it_captured()
    {
        ClosureCallbacks.Register(Count);
        try
        {
            var path = LargestGroup(typeof(ClosureCapture));

            path.Root.Should().Be("static field LeakAssert.Tests.ClosureCallbacks.All");
            path.Steps.Should().HaveCount(5);
            path.Steps.Take(3).Should().Equal("Action._invocationList (the delegates it calls)", "Object[]", "Action._target");
            path.Steps[3].Should().MatchRegex(@"^ClosureCallbacks\.<>c__DisplayClass\d+_\d+\.captured$", "the compiler's closure class holds the captured variable");
            path.Steps[4].Should().Be("ClosureCapture");
        }
        finally
        {
            ClosureCallbacks.All = null;
        }
    }

    [Fact]
    public void An_AsyncLocal_chain_is_held_by_the_threads_execution_context()
    {
        AsyncScopes.Push(Count);
        try
        {
            var path = LargestGroup(typeof(ScopeLink));

            path.Root.Should().Match(r => r == "strong handle" || r.StartsWith("thread stack", StringComparison.Ordinal), "the thread object or a frame holds the context");
            path.Steps.Should().Contain("ExecutionContext.m_localValues");
            path.Steps.Should().Contain(s => s.EndsWith("(AsyncLocal values)", StringComparison.Ordinal));
            path.Steps[^1].Should().Be($"ScopeLink (a chain of up to {Count} linked by Parent)", "each scope holds the one before it");
        }
        finally
        {
            AsyncScopes.Current.Value = null;
        }
    }

    [Fact]
    public void An_object_referenced_by_a_dead_finalizable_object_is_held_by_the_finalizer_queue()
    {
        // The finalizer thread is held in a finalizer of our own, so that the dead holders wait in the queue for the
        // snapshot rather than being finalized by whichever GC comes first.
        FinalizerGate.Block().Should().BeTrue("the finalizer thread runs the gate's finalizer");
        try
        {
            FinalizableHolder.Drop(Count);
            var path = LargestGroup(typeof(FinalizerKept));

            path.Root.Should().Be("finalizer queue");
            path.Steps.Should().Equal("FinalizableHolder._kept", "FinalizerKept");
        }
        finally
        {
            FinalizerGate.Open();
        }
    }

    [Theory]
    [InlineData(GCHandleType.Normal, "strong handle")]
    [InlineData(GCHandleType.Pinned, "pinned handle")]
    public void A_handle_holds_its_target(GCHandleType type, string root)
    {
        var handles = HandleTarget.Allocate(Count, type);
        try
        {
            var path = LargestGroup(typeof(HandleTarget));

            path.Root.Should().Be(root);
            path.Steps.Should().Equal("HandleTarget");
        }
        finally
        {
            foreach (var handle in handles) handle.Free();
        }
    }

    [Fact]
    public void A_thread_static_field_holds_its_value_through_the_threads_statics()
    {
        ThreadStatics.Fill(Count);
        try
        {
            var path = LargestGroup(typeof(ThreadStaticItem));

            // The runtime reports a thread's statics as stack roots, after its frames.
            path.Root.Should().StartWith("thread");
            path.Steps.Should().EndWith(["List<ThreadStaticItem>._items", "ThreadStaticItem[]", "ThreadStaticItem"]);
        }
        finally
        {
            ThreadStatics.Clear();
        }
    }

    [Fact]
    public void Objects_in_a_list_are_held_through_the_list_and_its_array()
    {
        ListedItems.Fill(Count);
        try
        {
            var path = LargestGroup(typeof(ListedItem));

            path.Root.Should().Be("static field LeakAssert.Tests.ListedItems.All");
            path.Steps.Should().Equal("List<ListedItem>._items", "ListedItem[]", "ListedItem");
        }
        finally
        {
            ListedItems.All.Clear();
        }
    }

    [Fact]
    public void A_ConditionalWeakTable_value_is_held_by_its_key()
    {
        WeakTableEntries.Add(Count);
        try
        {
            var path = LargestGroup(typeof(WeakTableValue));

            path.Root.Should().Be("static field LeakAssert.Tests.WeakTableEntries.Keys");
            path.Steps.Should().Equal(
                "List<WeakTableKey>._items", "WeakTableKey[]", "WeakTableKey (a ConditionalWeakTable key, which keeps its value alive)", "WeakTableValue");
        }
        finally
        {
            WeakTableEntries.Keys.Clear();
        }
    }

    [Fact]
    public void Dropped_instances_are_not_in_the_snapshot()
    {
        DroppedThing.MakeAndDrop(Count);

        var snapshot = Take();

        snapshot.Types.Should().NotContainKey(HeapSnapshot.NameOf(typeof(DroppedThing)), "they were garbage when the snapshot's GC ran");
        snapshot.PathsTo(typeof(DroppedThing)).Should().BeEmpty();
        snapshot.Types.Should().ContainKey("LeakAssert.Tests.SnapshotTests", "the running test's own instance is alive");
    }

    [Fact]
    public void Types_count_live_instances_and_their_bytes_by_full_name()
    {
        ListedItems.Fill(Count);
        try
        {
            var snapshot = Take();

            var items = snapshot.Types["LeakAssert.Tests.ListedItem"];
            items.Count.Should().Be(Count);
            items.Bytes.Should().Be(Count * 24L, "an object with one int field takes 24 bytes on 64-bit");
            snapshot.Types.Should().ContainKey("System.Collections.Generic.List`1[LeakAssert.Tests.ListedItem]");
            snapshot.TotalBytes.Should().Be(snapshot.Types.Values.Sum(t => t.Bytes));
            snapshot.ObjectCount.Should().Be((int)snapshot.Types.Values.Sum(t => t.Count));
            snapshot.PathsTo("LeakAssert.Tests.ListedItem").Should().BeEquivalentTo(snapshot.PathsTo(typeof(ListedItem)), "a name finds what the type does");
        }
        finally
        {
            ListedItems.All.Clear();
        }
    }

    [Fact]
    public void A_heap_of_a_million_objects_is_complete_and_counted_exactly()
    {
        var million = Tiny.Make(1_000_000);
        var clock = Stopwatch.StartNew();

        var snapshot = Take();
        var took = clock.Elapsed;
        var paths = snapshot.PathsTo(typeof(Tiny));
        var searched = clock.Elapsed - took;

        output.WriteLine($"{snapshot.ObjectCount:N0} objects, {snapshot.TotalBytes:N0} bytes: snapshot {took.TotalMilliseconds:F0} ms, paths {searched.TotalMilliseconds:F0} ms");
        snapshot.Types[HeapSnapshot.NameOf(typeof(Tiny))].Count.Should().Be(1_000_000, "no event was lost");
        snapshot.ObjectCount.Should().BeGreaterThan(1_000_000);
        paths.Should().ContainSingle().Which.Instances.Should().Be(1_000_000);
        paths[0].Steps.Should().Equal("Object[]", "Tiny");
        GC.KeepAlive(million);
    }

    [Fact]
    public void A_dump_that_overflows_its_buffer_is_no_snapshot_and_says_how_many_events_it_lost()
    {
        var many = Tiny.Make(300_000);

        var graph = HeapDump.TryTake(TimeSpan.FromSeconds(60), out var problem, bufferMB: 1);
        output.WriteLine(problem);

        graph.Should().BeNull("a graph with objects missing would send a search down wrong paths");
        problem.Should().MatchRegex(@"^the heap snapshot lost [\d,]+ events, so it is incomplete$");
        GC.KeepAlive(many);
    }

    [Fact]
    public void A_snapshot_that_cannot_start_in_time_says_so_and_the_next_one_works()
    {
        var failed = HeapSnapshot.TryTake(out var problem, TimeSpan.FromTicks(1));
        output.WriteLine(problem);

        failed.Should().BeNull();
        problem.Should().StartWith("the heap snapshot's EventPipe session did not start within ");
        HeapSnapshot.TryTake(out problem).Should().NotBeNull(problem);
    }

    private RetentionPath LargestGroup(Type type)
    {
        var snapshot = Take();
        var paths = snapshot.PathsTo(type);
        var text = string.Join("\n", paths.Select(p => $"{p.Instances,6}: {p}"));
        output.WriteLine($"{type.Name}: {snapshot.ObjectCount:N0} objects, taken in {snapshot.TakenIn.TotalMilliseconds:F0} ms\n{text}");
        paths.Should().NotBeEmpty();
        paths[0].Instances.Should().BeGreaterThanOrEqualTo(Count, text);
        return paths[0];
    }

    private static HeapSnapshot Take()
    {
        var snapshot = HeapSnapshot.TryTake(out var problem);
        snapshot.Should().NotBeNull(problem);
        return snapshot!;
    }
}

/// <summary>How a retention path spells the runtime's type names.</summary>
public sealed class TypeNameTests
{
    [Theory]
    [InlineData("System.Collections.Generic.Dictionary`2[System.Guid,Contoso.Session]", "Dictionary<Guid, Session>")]
    [InlineData("System.Collections.Generic.Dictionary`2+Entry[System.Guid,Contoso.Session][]", "Dictionary<Guid, Session>.Entry[]")]
    [InlineData("System.Collections.Generic.List`1[System.Func`1[System.Int32[,]]]", "List<Func<Int32[,]>>")]
    [InlineData("Contoso.Outer+<>c__DisplayClass3_0", "Outer.<>c__DisplayClass3_0")]
    [InlineData("Entry[System.String,System.Object][]", "Entry<String, Object>[]")]
    [InlineData("System.Object[][]", "Object[][]")]
    [InlineData("a]broken[name", "a]broken[name")]
    public void Runtime_names_read_as_csharp(string runtimeName, string shown) =>
        TypeName.Parse(runtimeName).Short().Should().Be(shown);

    [Fact]
    public void A_type_is_spelled_as_the_runtime_spells_it_with_its_enclosing_types()
    {
        TypeName.Of(typeof(Dictionary<Guid, string>)).Should().Be("System.Collections.Generic.Dictionary`2[System.Guid,System.String]");
        TypeName.Of(typeof(List<int>.Enumerator[])).Should().Be("System.Collections.Generic.List`1+Enumerator[System.Int32][]");
        TypeName.Of(typeof(int[,])).Should().Be("System.Int32[,]");
    }

    [Fact]
    public void A_parsed_name_resolves_to_the_loaded_type()
    {
        var loaded = new LoadedTypes();

        loaded.Resolve("System.Collections.Generic.List`1+Enumerator[System.Int32][]").Should().Be(typeof(List<int>.Enumerator[]));
        loaded.Resolve("LeakAssert.Tests.CachedSession").Should().Be(typeof(CachedSession));
        loaded.Resolve("No.Such.Type").Should().BeNull();
    }
}

internal sealed class CachedSession
{
    public Guid Id { get; } = Guid.NewGuid();
}

internal static class SnapshotSessionCache
{
    private static readonly Dictionary<Guid, CachedSession> _all = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fill(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var session = new CachedSession();
            _all[session.Id] = session;
        }
    }

    public static void Clear() => _all.Clear();
}

internal sealed class EventPublisher
{
    public static readonly EventPublisher Main = new();

    public event EventHandler? Changed;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Subscribe(int count)
    {
        for (var i = 0; i < count; i++) Changed += new EventSubscriber().OnChanged;
    }

    public void Unsubscribe() => Changed = null;

    public void Raise() => Changed?.Invoke(this, EventArgs.Empty);
}

internal sealed class EventSubscriber
{
    public int Seen { get; private set; }

    public void OnChanged(object? sender, EventArgs e) => Seen++;
}

internal sealed class TimerOwner
{
    private readonly Timer _timer;

    private TimerOwner() => _timer = new Timer(Tick, null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);

    public int Ticks { get; private set; }

    // Weak references only, so that the timer queue is what holds the owners.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static List<WeakReference<TimerOwner>> Start(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new WeakReference<TimerOwner>(new TimerOwner()))];

    public static void Stop(List<WeakReference<TimerOwner>> owners)
    {
        foreach (var owner in owners)
            if (owner.TryGetTarget(out var target)) target._timer.Dispose();
    }

    private void Tick(object? state) => Ticks++;
}

internal sealed class ClosureCapture
{
    public int Calls { get; set; }
}

internal static class ClosureCallbacks
{
    public static Action? All;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Register(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var captured = new ClosureCapture();
            All += () => captured.Calls++;
        }
    }
}

internal sealed class ScopeLink(ScopeLink? parent)
{
    public ScopeLink? Parent { get; } = parent;
}

internal static class AsyncScopes
{
    public static readonly AsyncLocal<ScopeLink?> Current = new();

    // A sync method: what it leaves in the AsyncLocal stays in the caller's context.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Push(int count)
    {
        for (var i = 0; i < count; i++) Current.Value = new ScopeLink(Current.Value);
    }
}

internal sealed class FinalizerKept
{
    public int Value { get; set; }
}

internal sealed class FinalizableHolder
{
    private readonly FinalizerKept _kept = new();

    ~FinalizableHolder() => _kept.Value++;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Drop(int count)
    {
        for (var i = 0; i < count; i++) _ = new FinalizableHolder();
    }
}

/// <summary>Holds the finalizer thread in its own finalizer until opened (for at most 30 s).</summary>
internal sealed class FinalizerGate
{
    private static readonly ManualResetEventSlim Entered = new();
    private static readonly ManualResetEventSlim Opened = new();

    ~FinalizerGate()
    {
        Entered.Set();
        Opened.Wait(TimeSpan.FromSeconds(30));
    }

    public static bool Block()
    {
        Entered.Reset();
        Opened.Reset();
        Drop();
        GC.Collect();
        return Entered.Wait(TimeSpan.FromSeconds(10));
    }

    public static void Open()
    {
        Opened.Set();
        GC.WaitForPendingFinalizers();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Drop() => _ = new FinalizerGate();
}

internal sealed class HandleTarget
{
    // Only unmanaged fields: a pinned handle needs an object it can pin.
    public int Value = 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static List<GCHandle> Allocate(int count, GCHandleType type) =>
        [.. Enumerable.Range(0, count).Select(_ => GCHandle.Alloc(new HandleTarget(), type))];
}

internal sealed class ThreadStaticItem
{
    public int Value { get; set; }
}

internal static class ThreadStatics
{
    [ThreadStatic]
    private static List<ThreadStaticItem>? t_items;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fill(int count)
    {
        t_items = [];
        for (var i = 0; i < count; i++) t_items.Add(new ThreadStaticItem());
    }

    public static void Clear() => t_items = null;
}

internal sealed class ListedItem
{
    public int Value { get; set; }
}

internal static class ListedItems
{
    public static readonly List<ListedItem> All = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fill(int count)
    {
        for (var i = 0; i < count; i++) All.Add(new ListedItem());
    }
}

internal sealed class WeakTableKey;

internal sealed class WeakTableValue
{
    public int Value { get; set; }
}

internal static class WeakTableEntries
{
    public static readonly List<WeakTableKey> Keys = [];
    private static readonly ConditionalWeakTable<WeakTableKey, WeakTableValue> Table = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Add(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var key = new WeakTableKey();
            Keys.Add(key);
            Table.Add(key, new WeakTableValue());
        }
    }
}

internal sealed class DroppedThing
{
    public int Value { get; set; }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void MakeAndDrop(int count)
    {
        for (var i = 0; i < count; i++) _ = new DroppedThing { Value = i };
    }
}

internal sealed class Tiny
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static object[] Make(int count)
    {
        var all = new object[count];
        for (var i = 0; i < count; i++) all[i] = new Tiny();
        return all;
    }
}
