using System.Runtime.CompilerServices;

namespace LeakAssert.Tests;

// Real leaks and real non-leaks, each the shape users meet. NoInlining keeps each allocating method a frame of
// its own, as it would be in the code under test.

public sealed class StaticListLeak
{
    public static readonly List<byte[]> Sink = new(capacity: 200_000);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Remember() => Sink.Add(new byte[1000]);

    /// <summary>The size of each array on the heap: 24 bytes of header and length, then the 1,000.</summary>
    public const long ArrayBytes = 1_024;

    public static void Clear() => Sink.Clear();
}

public sealed class PricePublisher
{
    public static readonly PricePublisher Instance = new();
    public event EventHandler<decimal>? PriceChanged;
    public void Publish(decimal price) => PriceChanged?.Invoke(this, price);
    public void Reset() => PriceChanged = null;
}

/// <summary>Subscribes on construction and never unsubscribes: the publisher's delegate list keeps it alive.</summary>
public sealed class PriceWidget
{
    private readonly byte[] _chart = new byte[2000];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static PriceWidget Open()
    {
        var widget = new PriceWidget();
        PricePublisher.Instance.PriceChanged += widget.OnPrice;
        return widget;
    }

    private void OnPrice(object? sender, decimal price) => _chart[0] = (byte)price;
}

public static class SessionCache
{
    public static readonly Dictionary<Guid, string> Entries = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Remember() => Entries[Guid.NewGuid()] = new string('x', 200);
}

/// <summary>
/// The timer leak as it really happens on .NET: an object owns a timer whose callback is its own method and is never
/// disposed. The runtime's timer queue roots the callback, the callback roots the monitor, the monitor the timer.
/// (A timer nobody references is finalized and closes itself: that one does not leak.)
/// </summary>
public sealed class HeartbeatMonitor
{
    private readonly byte[] _history = new byte[500];
    private readonly Timer _timer;

    private HeartbeatMonitor() => _timer = new Timer(Beat, null, TimeSpan.FromHours(1), TimeSpan.FromHours(1));

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static HeartbeatMonitor Start() => new();

    private void Beat(object? state) => _history[0]++;

    public void Stop() => _timer.Dispose();
}

public static class Garbage
{
    // Each array escapes through this field, so the JIT cannot allocate it on the stack (.NET 10 does that for
    // arrays that never leave the method, and then nothing reaches the heap at all).
    private static byte[]? _last;

    /// <summary>50 kB of short-lived arrays per call: heavy churn, nothing retained beyond the last one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Churn()
    {
        var total = 0;
        for (var i = 0; i < 50; i++)
        {
            _last = new byte[1000];
            total += _last.Length;
        }
        return total;
    }
}

/// <summary>A cache of 1,000 entries: it fills during the run, then every lookup hits.</summary>
public sealed class BoundedCache
{
    private readonly Dictionary<int, byte[]> _entries = [];
    private int _next;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public byte[] Get()
    {
        var key = _next++ % 1_000;
        if (!_entries.TryGetValue(key, out var value)) _entries[key] = value = new byte[512];
        return value;
    }
}

public static class LargeObjectLeak
{
    public static readonly List<byte[]> Sink = new(capacity: 1_000);

    /// <summary>100 kB arrays live on the large object heap: liveness must be replayed there too.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Remember() => Sink.Add(new byte[100_000]);

    /// <summary>The size of each array on the heap: 24 bytes of header and length, then the 100,000.</summary>
    public const long ArrayBytes = 100_024;
}

public static class AsyncLeak
{
    public static readonly List<byte[]> Sink = new(capacity: 100_000);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async Task HandleAsync()
    {
        await Task.Yield();
        Sink.Add(new byte[2000]);
    }
}

public static class SmallLeak
{
    public static readonly List<object> Sink = new(capacity: 200_000);

    /// <summary>24 bytes an iteration: a bare object, the smallest thing one can leak.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Remember() => Sink.Add(new object());
}
