using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Tracing;

namespace LeakAssert.Sampling;

/// <summary>
/// The stack an EventPipe event was written with, as return addresses, leaf first. EventPipeEventSource hands each
/// event's stack to TraceLog as an ETW-style extended data item of its native event record, and has no public way to
/// read it otherwise; this reads that item. The layout is TraceEvent's own (its native method declarations), found by
/// reflection once, so a TraceEvent that changed it fails here with a plain message rather than reading garbage.
/// </summary>
internal static unsafe class EventStacks
{
    private const ushort StackTrace64 = 6; // EVENT_HEADER_EXT_TYPE_STACK_TRACE64

    private static readonly FieldInfo Record;
    private static readonly int CountOffset, ItemsOffset, ItemSize, TypeOffset, SizeOffset, DataOffset;

    static EventStacks()
    {
        var assembly = typeof(TraceEvent).Assembly;
        var record = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_RECORD");
        var item = assembly.GetType("Microsoft.Diagnostics.Tracing.TraceEventNativeMethods+EVENT_HEADER_EXTENDED_DATA_ITEM");
        Record = typeof(TraceEvent).GetField("eventRecord", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"this TraceEvent ({assembly.GetName().Version}) keeps no native event record, so stacks cannot be read");
        if (record is null || item is null)
            throw new InvalidOperationException($"this TraceEvent ({assembly.GetName().Version}) declares no native event record, so stacks cannot be read");
        CountOffset = (int)Marshal.OffsetOf(record, "ExtendedDataCount");
        ItemsOffset = (int)Marshal.OffsetOf(record, "ExtendedData");
        ItemSize = Marshal.SizeOf(item);
        TypeOffset = (int)Marshal.OffsetOf(item, "ExtType");
        SizeOffset = (int)Marshal.OffsetOf(item, "DataSize");
        DataOffset = (int)Marshal.OffsetOf(item, "DataPtr");
    }

    /// <summary>The event's stack, leaf first; null when it was written without one. Valid only inside its callback.</summary>
    public static ulong[]? Of(TraceEvent e)
    {
        var record = (byte*)Pointer.Unbox(Record.GetValue(e)!);
        if (record is null) return null;
        var count = *(ushort*)(record + CountOffset);
        var items = *(byte**)(record + ItemsOffset);
        for (var i = 0; i < count; i++)
        {
            var item = items + i * ItemSize;
            if (*(ushort*)(item + TypeOffset) != StackTrace64) continue;
            // The data is a 64-bit match id, then the addresses.
            var frames = (*(ushort*)(item + SizeOffset) - sizeof(ulong)) / sizeof(ulong);
            if (frames <= 0) return null;
            var addresses = (ulong*)(*(ulong*)(item + DataOffset)) + 1;
            return new ReadOnlySpan<ulong>(addresses, frames).ToArray();
        }
        return null;
    }
}
