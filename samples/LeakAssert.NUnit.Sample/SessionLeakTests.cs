using FluentAssertions;
using LeakAssert;
using LeakAssert.NUnit;
using NUnit.Framework;

namespace NUnitSample;

public sealed class SessionLeakTests
{
    // The body calls Leak.Profile and asserts with FluentAssertions.
    [LeakTest]
    public void Signing_in_and_out_does_not_leak()
    {
        var profile = Leak.Profile(Sessions.SignIn, iterations: 5_000);

        profile.Should().NotRetainMoreThan(0.Bytes().PerIteration(), "because a disposed session leaves nothing behind");
    }

    // The body itself is the workload: LeakAssert runs it 2,000 times on this fixture instance.
    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    public void Signing_in_does_not_leak() => Sessions.SignIn();

    // One leak test per test case; an async body is awaited each iteration.
    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [TestCase(1)]
    [TestCase(8)]
    public async Task Signing_in_several_users_does_not_leak(int users)
    {
        for (var i = 0; i < users; i++)
        {
            await Task.Yield();
            Sessions.SignIn();
        }
    }

    // A real leak, caught: excluded from plain `dotnet test` by its category (see the project file).
    [LeakTest]
    [Category("LeakDemonstration")]
    public void Demonstration_sessions_that_are_never_disposed_leak()
    {
        var profile = Leak.Profile(LeakySessions.SignIn, iterations: 5_000);

        profile.Should().NotRetainMoreThan(16.KB());
    }

    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    [Category("LeakDemonstration")]
    public void Demonstration_a_body_that_leaks_fails_with_the_report() => LeakySessions.SignIn();
}
