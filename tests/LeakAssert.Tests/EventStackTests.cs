using System.Runtime.InteropServices;
using LeakAssert.Sampling;

namespace LeakAssert.Tests;

/// <summary>
/// The stack items of an event record, hand-built in native memory at the offsets TraceEvent's own declaration gives:
/// a 64-bit process's (STACK_TRACE64) and a 32-bit one's (STACK_TRACE32, as on win-x86, which no machine here runs).
/// </summary>
public sealed class EventStackTests
{
    private const ushort StackTrace32 = 5, StackTrace64 = 6, RelatedActivityId = 1;
    private const ulong MatchId = 0xABCD_EF01_2345_6789;

    [Fact]
    public void A_64_bit_stack_item_gives_its_addresses_leaf_first()
    {
        ulong[] addresses = [0x7FFA_1234_5678_9ABC, 0x0000_7F00_0000_1000, 0xFFFF_8000_0000_0001];

        Read(StackTrace64, [.. Bytes(MatchId), .. addresses.SelectMany(Bytes)]).Should().Equal(addresses);
    }

    [Fact]
    public void A_32_bit_stack_item_gives_its_addresses_widened_without_sign_extension()
    {
        uint[] addresses = [0x7712_3456, 0xF000_1234, 0x0040_1000];

        Read(StackTrace32, [.. Bytes(MatchId), .. addresses.SelectMany(BitConverter.GetBytes)])
            .Should().Equal(0x7712_3456UL, 0xF000_1234UL, 0x0040_1000UL);
    }

    [Fact]
    public void An_item_of_another_kind_is_no_stack_and_a_stack_of_only_its_match_id_is_empty()
    {
        Read(RelatedActivityId, new byte[16]).Should().BeNull();
        Read(StackTrace64, Bytes(MatchId)).Should().BeEmpty();
        Read(StackTrace32, Bytes(MatchId)).Should().BeEmpty();
    }

    private static byte[] Bytes(ulong value) => BitConverter.GetBytes(value);

    // The item's other fields are set to all ones, so that reading them by mistake would show.
    private static ulong[]? Read(ushort type, byte[] data)
    {
        var layout = EventStacks.Find(EventStacks.RecordField).Layout!;
        var item = Marshal.AllocHGlobal(layout.ItemSize);
        var buffer = Marshal.AllocHGlobal(data.Length);
        try
        {
            for (var i = 0; i < layout.ItemSize; i++) Marshal.WriteByte(item, i, 0xFF);
            Marshal.Copy(data, 0, buffer, data.Length);
            Marshal.WriteInt16(item, layout.TypeOffset, (short)type);
            Marshal.WriteInt16(item, layout.SizeOffset, (short)data.Length);
            Marshal.WriteInt64(item, layout.DataOffset, buffer);
            return EventStacks.StackOf(item, layout);
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
            Marshal.FreeHGlobal(item);
        }
    }
}
