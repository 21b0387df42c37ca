using LeakAssert;
using LeakAssert.NUnit;
using NUnit.Framework;

namespace Fixtures;

/// <summary>NUnit's [CancelAfter] reaches a leak test's measurement: a hung iteration is given up on, the test fails saying where.</summary>
[Category("CancelAfter")]
public sealed class CancelAfterTests
{
    private int _calls;

    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0), CancelAfter(1_500)]
    public void A_hung_body_is_cancelled()
    {
        if (++_calls == 500) Thread.Sleep(Timeout.Infinite);
    }

    [LeakTest, CancelAfter(1_500)]
    public void A_hung_workload_of_the_plain_form_is_cancelled()
    {
        var calls = 0;
        Leak.Profile(() => { if (++calls == 500) Thread.Sleep(Timeout.Infinite); }, 1_000);
    }
}
