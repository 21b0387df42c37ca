using FluentAssertions;
using LeakAssert;
using LeakAssert.Xunit;
using Xunit;

namespace XunitSample;

public sealed class DisplayLeakTests
{
    private readonly Thermometer _thermometer = new();

    // The body calls Leak.Profile and asserts with FluentAssertions.
    [LeakTest]
    public void Opening_and_closing_a_display_does_not_leak()
    {
        var profile = Leak.Profile(() => new Display(_thermometer).Dispose(), iterations: 5_000);

        profile.Should().NotRetainMoreThan(0.Bytes().PerIteration(), "because a closed display leaves nothing behind");
    }

    // The body itself is the workload: LeakAssert runs it 2,000 times on one instance of this class.
    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    public void Publishing_a_reading_does_not_leak() => _thermometer.Publish(21.5);

    // One leak test per data row.
    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [InlineData(-40.0)]
    [InlineData(100.0)]
    public void Publishing_any_reading_does_not_leak(double celsius) => _thermometer.Publish(celsius);

    // A real leak, caught: excluded from plain `dotnet test` by its trait (see the project file).
    [LeakTest]
    [Trait("Category", "LeakDemonstration")]
    public void Demonstration_a_display_that_never_unsubscribes_leaks()
    {
        var profile = Leak.Profile(() => new LeakyDisplay(_thermometer), iterations: 5_000);

        profile.Should().NotRetainMoreThan(16.KB());
    }

    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    [Trait("Category", "LeakDemonstration")]
    public void Demonstration_a_body_that_leaks_fails_with_the_report() => _ = new LeakyDisplay(_thermometer);
}
