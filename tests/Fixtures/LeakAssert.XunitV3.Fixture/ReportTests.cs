using FluentAssertions;
using LeakAssert;
using Xunit;

namespace Fixtures;

/// <summary>xunit v3 only: a leak caught in each form, with its report and artifacts, beside clean leak tests and data rows.</summary>
[Trait("Category", "Report")]
public sealed class ReportTests
{
    private static readonly List<byte[]> Kept = [];
    public static int Sink;

    [LeakTest]
    public void Demonstration_a_static_list_leaks()
    {
        var profile = Leak.Profile(() => Kept.Add(new byte[1024]), iterations: 2_000);
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
    }

    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 64)]
    public void Demonstration_a_body_that_leaks_fails_with_the_report() => Kept.Add(new byte[1024]);

    [LeakTest]
    public void Garbage_does_not_leak()
    {
        var profile = Leak.Profile(() => Sink = new byte[1024].Length, iterations: 2_000);
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
    }

    // One leak test per row, each run alone and reported under its own name.
    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [InlineData(16)]
    [InlineData(4096)]
    public void Garbage_of_any_size_does_not_leak(int size) => Sink = new byte[size].Length;
}
