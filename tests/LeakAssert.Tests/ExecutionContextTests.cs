using System.Runtime.CompilerServices;
using LeakAssert.Measurement;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>
/// A sync workload's iterations share one flowing execution context, as a plain loop's do: a "scope" pushed on an
/// AsyncLocal and never popped (an undisposed logging or tracing scope) grows without bound in production, and must
/// grow under Leak.Profile too, across segments, checkpoints and the repeat pass.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class ExecutionContextTests
{
    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    [Fact]
    public void A_scope_pushed_on_an_AsyncLocal_and_never_popped_is_a_leak()
    {
        var profile = Leak.Profile(Scopes.OpenAndForget, iterations: 2_000, Quick);
        Scopes.Reset();

        profile.Growth.Trend.Should().Be(GrowthTrend.Rising, "the chain grows by one scope per iteration\n{0}", profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<XunitException>(profile.Report()).WithMessage("*still rising at the end*");
    }

    [Fact]
    public void The_same_scope_popped_again_passes()
    {
        var profile = Leak.Profile(Scopes.OpenAndClose, iterations: 2_000, Quick);
        Scopes.Reset();

        profile.Growth.Trend.Should().NotBe(GrowthTrend.Rising, "a popped scope is garbage\n{0}", profile.Report());
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
    }

    [Fact]
    public void A_plain_loop_grows_the_chain_as_Leak_Profile_now_does()
    {
        // The production behaviour the runner must reproduce: the chain is still there after the loop.
        for (var i = 0; i < 100; i++) Scopes.OpenAndForget();

        Scopes.Depth().Should().Be(100);
        Scopes.Reset();
    }

    private static class Scopes
    {
        private static readonly AsyncLocal<Scope?> current = new();

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void OpenAndForget() => current.Value = new Scope(current.Value);

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void OpenAndClose()
        {
            var outer = current.Value;
            current.Value = new Scope(outer);
            current.Value = outer;
        }

        public static int Depth()
        {
            var depth = 0;
            for (var s = current.Value; s is not null; s = s.Parent) depth++;
            return depth;
        }

        public static void Reset() => current.Value = null;

        private sealed class Scope(Scope? parent)
        {
            public Scope? Parent { get; } = parent;
            public byte[] State { get; } = new byte[256];
        }
    }
}
