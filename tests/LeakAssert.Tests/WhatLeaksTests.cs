using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>
/// One story per leak: the report leads with the leak group (the object each iteration adds, its exact count per
/// iteration, the trace from the GC root that holds it and where it was allocated); type assertions decide on the
/// exact counts of heap snapshots.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class WhatLeaksTests
{
    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    [Fact]
    public void A_leaking_test_names_the_leaking_type_per_iteration_what_holds_it_and_where_it_was_allocated()
    {
        // The default attribution budget: the repeat pass runs long enough for ~20 samples, so the site is there to name.
        var profile = Leak.Profile(SessionCache.Open, iterations: 2_000);
        SessionCache.Clear();

        var report = profile.Report();
        var heap = profile.HeapGrowth;
        heap.Should().NotBeNull(report);
        heap!.Types[0].TypeName.Should().Be("LeakAssert.Tests.WhatLeaksTests+CachedSession", "the leaking object leads the counts, not the arrays that hold it\n{0}", report);
        var lead = profile.Leaks.Should().ContainSingle(report).Subject;
        lead.BoundaryType.Should().Be("LeakAssert.Tests.WhatLeaksTests+CachedSession", report);
        (lead.HolderType, lead.HolderField).Should().Be(("LeakAssert.Tests.WhatLeaksTests.SessionCache", "all"), report);
        lead.CountPerIteration.Should().BeApproximately(1, 0.01, report);

        var lines = report.Split('\n');
        var section = Array.FindIndex(lines, l => l.StartsWith("What leaks: 1 leak over the ", StringComparison.Ordinal));
        section.Should().BeGreaterThan(0, report);
        section.Should().BeLessThan(Array.FindIndex(lines, l => l.StartsWith("Exact retained heap, each after", StringComparison.Ordinal)), "the section leads, above the checkpoints and top\n{0}", report);
        lines[section + 2].Should().Match($"Leak 1 [{lead.Signature}]: each iteration adds 1 WhatLeaksTests.CachedSession, which retains *", report);
        lines[section + 3].Should().Be("  static field LeakAssert.Tests.WhatLeaksTests.SessionCache.all", report);
        lines[section + 4].Should().StartWith("  ├ Dictionary<Guid, WhatLeaksTests.CachedSession> entries", report).And.EndWith("← holder: keeps every WhatLeaksTests.CachedSession added");
        lines[section + 5].Should().StartWith("  ╰ WhatLeaksTests.CachedSession (yours)", report).And.EndWith("← new each iteration");
        var html = new StringWriter();
        Reporting.HtmlReport.Write(html, profile, verdict: null);
        html.ToString().Should().Contain("<details class=\"leak\" open><summary>Leak 1 [", report)
            .And.Contain("static field LeakAssert.Tests.WhatLeaksTests.SessionCache.all", report);
        // A 40-byte object is seldom sampled (one sample per ~100 KiB); its 64-byte token beside it is, at the same site.
        lines.Should().Contain(l => l.StartsWith("     allocated at: LeakAssert.Tests.WhatLeaksTests+", StringComparison.Ordinal) && l.Contains("(WhatLeaksTests.cs:", StringComparison.Ordinal), report);
    }

    [Fact]
    public void A_leak_through_a_list_names_the_users_type_not_the_backing_array()
    {
        var profile = Leak.Profile(Registry.Register, iterations: 2_000, Quick);
        Registry.Clear();

        var heap = profile.HeapGrowth;
        heap.Should().NotBeNull(profile.Report());
        heap!.Types[0].TypeName.Should().Be("LeakAssert.Tests.WhatLeaksTests+Registration", profile.Report());
        profile.Leaks.Should().ContainSingle(profile.Report()).Which.BoundaryType.Should().Be("LeakAssert.Tests.WhatLeaksTests+Registration", profile.Report());
    }

    [Fact]
    public void A_run_that_does_not_grow_takes_no_snapshot_and_its_report_has_no_such_section()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 500, Quick);

        profile.HeapGrowth.Should().BeNull(profile.Report());
        profile.HeapSnapshotProblem.Should().Contain("no rising growth", profile.Report());
        profile.Report().Should().NotContain("What leaks");
    }

    [Fact]
    public void Type_assertions_decide_on_exact_counts_with_snapshots_around_every_run()
    {
        var always = Quick with { HeapSnapshots = HeapSnapshotMode.Always };
        // Four sessions kept in all: 96 bytes, far under any byte noise floor, yet exactly counted.
        var kept = 0;
        var leaky = Leak.Profile(() => { if (kept++ % 500 == 0) SessionCache.Open(); }, iterations: 2_000, always with { Warmup = 0 });
        SessionCache.Clear();
        var clean = Leak.Profile(() => Garbage.Churn(), iterations: 500, always);

        var act = () => leaky.Should().NotRetainInstancesOf<CachedSession>("sessions are closed");
        act.Should().Throw<XunitException>(leaky.Report()).WithMessage("*to have no retained instances of LeakAssert.Tests.WhatLeaksTests+CachedSession because sessions are closed, but it gained 4 instances over 2,000 iterations of the measured iterations*");
        leaky.Should().NotRetainMoreInstancesOf<CachedSession>(0.01);
        clean.Should().NotRetainInstancesOf<CachedSession>();
    }

    [Fact]
    public void Without_snapshots_a_type_assertion_says_it_cannot_decide_instead_of_passing()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 500, Quick);

        var act = () => profile.Should().NotRetainInstancesOf<CachedSession>();

        act.Should().Throw<XunitException>(profile.Report()).WithMessage("*could not be decided: no heap snapshots were taken (*); LeakOptions.HeapSnapshots = HeapSnapshotMode.Always takes them on every run*");
    }

    [Fact]
    public void Accepted_growth_is_listed_apart_with_its_reason_and_passes_the_type_assertion()
    {
        var options = Quick with { AcceptedGrowth = [AcceptedGrowth.Of<CachedSession>("the cache keeps every session until logout")] };

        var profile = Leak.Profile(SessionCache.Open, iterations: 2_000, options);
        SessionCache.Clear();

        profile.HeapGrowth!.Types.Should().NotContain(t => t.TypeName.EndsWith("CachedSession", StringComparison.Ordinal), profile.Report());
        profile.Leaks.Should().BeEmpty(profile.Report());
        profile.HeapGrowth.AcceptedLeaks.Should().ContainSingle(profile.Report()).Which.Group.BoundaryType.Should().EndWith("CachedSession");
        profile.Report().Should().Contain("Accepted [").And.Contain("1 WhatLeaksTests.CachedSession per iteration held by static LeakAssert.Tests.WhatLeaksTests.SessionCache.all")
            .And.Contain(": the cache keeps every session until logout");
        profile.Should().NotRetainInstancesOf<CachedSession>();
    }

    [Fact]
    public void An_accepted_growth_needs_a_reason() =>
        FluentActions.Invoking(() => AcceptedGrowth.Of<CachedSession>(" ")).Should().Throw<ArgumentException>()
            .WithMessage("An accepted growth needs a reason, printed in the report, but it was empty.*");

    private sealed class CachedSession
    {
        public readonly Guid Id = Guid.NewGuid();
        public readonly byte[] Token = new byte[64];
    }

    private static class SessionCache
    {
        private static readonly Dictionary<Guid, CachedSession> all = [];

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Open()
        {
            var session = new CachedSession();
            all[session.Id] = session;
        }

        public static void Clear() => all.Clear();
    }

    private sealed class Registration(int id)
    {
        public int Id { get; } = id;
    }

    private static class Registry
    {
        private static readonly List<Registration> registrations = [];

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Register() => registrations.Add(new Registration(registrations.Count));

        public static void Clear() => registrations.Clear();
    }
}
