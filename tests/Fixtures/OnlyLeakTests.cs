namespace Fixtures;

/// <summary>
/// The only tests of their project: [LeakTest] and nothing else from the test framework (the project names the adapter
/// in a global using), so no code of the project refers to NUnit or xunit. Compiled into an NUnit and an xUnit project.
/// </summary>
public sealed class OnlyLeakTests
{
    public static int Sink;
    private readonly List<byte[]> _kept = [];

    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    public void Garbage_is_not_retained() => Sink = new byte[256].Length;

    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    public void What_the_body_keeps_is_caught() => _kept.Add(new byte[100]);
}
