using LeakAssert.Xunit;
using Xunit;

namespace Fixtures;

// For the adapter benchmark (bench/LeakAssert.Bench -- --adapters): what leak tests add to a test run's wall time.
// Eight ordinary tests in eight parallel collections, each ~200 ms of allocation and waiting, and four leak tests.
public abstract class OrdinaryWork
{
    [Fact]
    [Trait("Category", "Cost")]
    [Trait("Kind", "Ordinary")]
    public void Works_for_200_ms() => CostWork.Ordinary();
}

public sealed class Ordinary1 : OrdinaryWork;
public sealed class Ordinary2 : OrdinaryWork;
public sealed class Ordinary3 : OrdinaryWork;
public sealed class Ordinary4 : OrdinaryWork;
public sealed class Ordinary5 : OrdinaryWork;
public sealed class Ordinary6 : OrdinaryWork;
public sealed class Ordinary7 : OrdinaryWork;
public sealed class Ordinary8 : OrdinaryWork;

[Trait("Category", "Cost")]
[Trait("Kind", "Leak")]
public sealed class CostLeakTests
{
    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    public void Leak_test_1() => CostWork.Request();

    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    public void Leak_test_2() => CostWork.Request();

    [LeakTest(Iterations = 2_000, MaxRetainedBytes = 64 * 1024)]
    public void Leak_test_3() => CostWork.Request();

    [LeakTest(Iterations = 2_000, MaxRetainedBytes = 64 * 1024)]
    public void Leak_test_4() => CostWork.Request();
}

public static class CostWork
{
    public static object? Sink;

    public static void Ordinary()
    {
        for (var i = 0; i < 10; i++)
        {
            for (var j = 0; j < 1_000; j++) Sink = new byte[256];
            Thread.Sleep(20);
        }
    }

    public static void Request() => Sink = new string('x', 64) + Environment.TickCount;
}
