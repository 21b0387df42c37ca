using FluentAssertions;
using LeakAssert;
using Xunit;

namespace Fixtures;

/// <summary>The body form runs every iteration on one instance of the class.</summary>
[Trait("Category", "Instance")]
public sealed class InstanceTests
{
    public static int Sink;
    private readonly byte[] _constructed = new byte[1 << 20];
    private readonly List<byte[]> _history = [];

    // The constructor's 1 MB is allocated once, before the warmup: it is not growth. The bound is half of it,
    // well above a busy test host's one-off allocations (375 kB seen while a busy runner still read source information).
    [LeakTest(Iterations = 2_000, MaxRetainedBytes = 512 * 1024)]
    public void Constructor_allocations_are_not_counted() => Sink = _constructed.Length;

    // What the body keeps in the instance lives as long as the instance: retained, and caught.
    [LeakTest(Iterations = 2_000, MaxRetainedBytesPerIteration = 0)]
    public void What_the_body_keeps_in_the_instance_is_retained() => _history.Add(new byte[100]);

    // An async body is awaited each iteration; what it keeps after the await is caught too.
    [LeakTest(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    public async Task An_async_body_is_awaited()
    {
        await Task.Yield();
        _history.Add(new byte[100]);
    }

    // The plain form may be async too: the test awaits its profile, and its assertion fails the test.
    [LeakTest]
    public async Task The_plain_form_awaits_an_async_test()
    {
        var profile = await Leak.ProfileAsync(async () =>
        {
            await Task.Yield();
            _history.Add(new byte[100]);
        }, iterations: 1_000);
        profile.Should().NotRetainMoreThan(0.Bytes().PerIteration());
    }

    // Both bounds at once: each is decided.
    [LeakTest(Iterations = 1_000, MaxRetainedBytes = 1024 * 1024, MaxRetainedBytesPerIteration = 0)]
    public void Both_bounds_hold_for_garbage() => Sink = new byte[256].Length;

    // Skipping works as on any fact.
    [LeakTest(Skip = "skipped on purpose", Iterations = 1_000, MaxRetainedBytes = 0)]
    public void A_skipped_leak_test_does_not_run() => throw new InvalidOperationException("a skipped test ran");

    // A body that throws fails the test with its own exception, not a leak report.
    [LeakTest(Iterations = 100, MaxRetainedBytes = 0)]
    public void A_body_that_throws_fails_with_its_exception() => throw new InvalidOperationException("the workload broke");
}
