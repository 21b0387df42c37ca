using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing;

namespace LeakAssert.Sampling;

/// <summary>
/// The stack an EventPipe event was written with, as return addresses, leaf first. EventPipeEventSource hands each
/// event's stack to TraceLog as an ETW-style extended data item of its native event record, and has no public way to
/// read it otherwise; this reads that item. The layout is TraceEvent's own (its native method declarations), found by
/// reflection once, at first use: a TraceEvent that changed it gives <see cref="Problem"/>, a sentence, rather than
/// an exception or garbage.
/// </summary>
internal static unsafe class EventStacks
{
    // A 64-bit process's stacks come as STACK_TRACE64, a 32-bit one's (win-x86) as STACK_TRACE32.
    private const ushort StackTrace32 = 5, StackTrace64 = 6; // EVENT_HEADER_EXT_TYPE_STACK_TRACE32, _STACK_TRACE64

    /// <summary>The private field of <see cref="TraceEvent"/> that points at its native event record.</summary>
    internal const string RecordField = "eventRecord";

    private static Lazy<(Layout? Layout, string? Problem)> _found = new(() => Find(RecordField));

    /// <summary>Why this TraceEvent's stacks cannot be read, or null when they can.</summary>
    public static string? Problem => _found.Value.Problem;

    /// <summary>Reads stacks through the field named <paramref name="recordField"/> until disposed (a test's mismatched layout).</summary>
    internal static IDisposable UseRecordField(string recordField)
    {
        var previous = _found;
        _found = new(() => Find(recordField));
        return new Restore(() => _found = previous);
    }

    /// <summary>The layout of this TraceEvent's native event record, or the sentence that says why it has none.</summary>
    internal static (Layout? Layout, string? Problem) Find(string recordField)
    {
        var assembly = typeof(TraceEvent).Assembly;
        var version = assembly.GetName().Version;
        try
        {
            var record = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_RECORD");
            var item = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_HEADER_EXTENDED_DATA_ITEM");
            var field = typeof(TraceEvent).GetField(recordField, BindingFlags.NonPublic | BindingFlags.Instance);
            if (field is null || !field.FieldType.IsPointer)
                return (null, $"this TraceEvent ({version}) keeps no native event record where LeakAssert reads one, so sampled stacks cannot be read");
            if (record is null || item is null)
                return (null, $"this TraceEvent ({version}) declares no native event record, so sampled stacks cannot be read");
            return (new Layout(field, (int)Marshal.OffsetOf(record, "ExtendedDataCount"), (int)Marshal.OffsetOf(record, "ExtendedData"),
                Marshal.SizeOf(item), (int)Marshal.OffsetOf(item, "ExtType"), (int)Marshal.OffsetOf(item, "DataSize"), (int)Marshal.OffsetOf(item, "DataPtr")), null);
        }
        catch (ArgumentException e)
        {
            // Marshal.OffsetOf names a field the record no longer has.
            return (null, $"this TraceEvent ({version}) lays out its native event record differently ({e.Message}), so sampled stacks cannot be read");
        }
    }

    /// <summary>The event's stack, leaf first; null when it was written without one. Valid only inside its callback.</summary>
    /// <remarks>Call only when <see cref="Problem"/> is null.</remarks>
    public static ulong[]? Of(TraceEvent e)
    {
        var l = _found.Value.Layout!;
        var record = (byte*)Pointer.Unbox(l.Record.GetValue(e)!);
        if (record is null) return null;
        var count = *(ushort*)(record + l.CountOffset);
        var items = *(byte**)(record + l.ItemsOffset);
        for (var i = 0; i < count; i++)
            if (StackOf((nint)(items + i * l.ItemSize), l) is { } stack) return stack.Length > 0 ? stack : null;
        return null;
    }

    /// <summary>
    /// The addresses of one extended data item at <paramref name="item"/>, leaf first, 32-bit ones widened; null when
    /// the item is no stack, empty when it is one without frames.
    /// </summary>
    internal static ulong[]? StackOf(nint item, Layout l)
    {
        var at = (byte*)item;
        var type = *(ushort*)(at + l.TypeOffset);
        if (type is not (StackTrace32 or StackTrace64)) return null;
        // The data is a 64-bit match id, then the addresses.
        var width = type == StackTrace64 ? sizeof(ulong) : sizeof(uint);
        var frames = (*(ushort*)(at + l.SizeOffset) - sizeof(ulong)) / width;
        if (frames <= 0) return [];
        var addresses = (byte*)(nuint)(*(ulong*)(at + l.DataOffset)) + sizeof(ulong);
        if (type == StackTrace64) return new ReadOnlySpan<ulong>(addresses, frames).ToArray();
        var wide = new ulong[frames];
        var narrow = new ReadOnlySpan<uint>(addresses, frames);
        for (var i = 0; i < frames; i++) wide[i] = narrow[i];
        return wide;
    }

    internal sealed record Layout(FieldInfo Record, int CountOffset, int ItemsOffset, int ItemSize, int TypeOffset, int SizeOffset, int DataOffset);

    private sealed class Restore(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }
}
