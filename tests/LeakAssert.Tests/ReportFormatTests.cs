using System.Globalization;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Reporting;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>The text formats, pinned by golden files and built from fixed data so they do not depend on a run.</summary>
public sealed class ReportFormatTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static readonly Frame Handle = new("Shop.Cart.Add", "Shop", "/src/Shop/Cart.cs", 42);
    private static readonly Frame Grow = new("System.Collections.Generic.List`1[System.__Canon].set_Capacity", "System.Private.CoreLib", null, 0);
    private static readonly Frame AddWithResize = new("System.Collections.Generic.List`1[System.__Canon].AddWithResize", "System.Private.CoreLib", null, 0);
    private static readonly Frame Test = new("Shop.Tests.CartTests+<>c__DisplayClass0_0.<Adding_items_does_not_leak>b__0", "Shop.Tests", "/src/Shop.Tests/CartTests.cs", 17);
    private static readonly Frame Format = new("Shop.Cart.Describe{T}", "Shop", "/src/Shop/Cart.cs", 60);

    internal static LeakProfile LeakingProfile()
    {
        var diff = new HeapProfile("diff",
        [
            new ProfileSample([Handle, Test], "System.Byte[]", 1_900, 1_945_600, 1_900, 1_945_600, 19, 19, 19 * 1.0e10),
            new ProfileSample([Grow, AddWithResize, Handle, Test], "Shop.Item[]", 1, 131_096, 1, 131_096, 1, 1, 1.2e10),
            new ProfileSample([Format, Test], "System.String", 4_000, 409_600, -1_000, -102_400, 4, 1, 1.0e10),
        ], At);
        var profiles = new ProfileSet(diff, diff, diff, TotalSamples: 40, ForeignSamples: 16);
        long[] wobble = [0, 900, -700, 300, 0, -1_200, 600, 100, -300];
        var checkpoints = Enumerable.Range(0, 9).Select(k => new Checkpoint(k * 250, 4_000_000 + k * 250L * 1_040 + wobble[k])).ToArray();
        return new LeakProfile(new MeasuredRun
        {
            Iterations = 2_000, Warmup = 200, Checkpoints = checkpoints, AllocatedBytesPerIteration = 2_100.5, Profiles = profiles, MinAttributionSamples = 10,
            Elapsed = TimeSpan.FromMilliseconds(900), MeasuredTime = TimeSpan.FromMilliseconds(400),
        });
    }

    private static LeakProfile UnprofiledPlateau() => new(UnprofiledPlateauRun());

    private static MeasuredRun UnprofiledPlateauRun()
    {
        long[] retained = [4_000_000, 4_200_000, 4_300_000, 4_300_100, 4_300_050];
        var checkpoints = retained.Select((r, k) => new Checkpoint(k * 1_000, r)).ToArray();
        return new MeasuredRun
        {
            Iterations = 4_000, Warmup = 400, TimeBudget = TimeSpan.FromSeconds(2), Checkpoints = checkpoints, AllocatedBytesPerIteration = 600,
            SamplingProblem = "the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)", MinAttributionSamples = 10,
            Elapsed = TimeSpan.FromSeconds(1), MeasuredTime = TimeSpan.FromSeconds(0.5),
        };
    }

    /// <summary>Counters outside the GC heap at the plateau's five checkpoints: flat, or with an assembly generated per iteration.</summary>
    private static OutsideHeap Outside(bool assemblyPerIteration)
    {
        CounterSeries Series(string name, bool bytes, long floor, Func<int, long> value) =>
            new(name, bytes, floor, Enumerable.Range(0, 5).Select(k => new CounterReading(k * 1_000, value(k))).ToArray());
        var perIteration = assemblyPerIteration ? 1 : 0;
        return new OutsideHeap(
            Series("native memory", true, OutsideHeap.NativeNoiseFloorBytes, k => 12_000_000 + k * 1_000L * perIteration * 30_000 + k % 2 * 40_960),
            Series("assemblies", false, OutsideHeap.CountNoiseFloor, k => 41 + k * 1_000L * perIteration),
            Series("load contexts", false, OutsideHeap.CountNoiseFloor, _ => 1),
            Series("threads", false, OutsideHeap.CountNoiseFloor, k => 9 + k % 2),
            Series("handles", false, OutsideHeap.CountNoiseFloor, _ => 42),
            assemblyPerIteration ? [new AssemblyGroup("GeneratedSerializer", IsDynamic: true, IsCollectible: false, "Default", 4_000)] : [],
            []);
    }

    [Fact]
    public void The_report_of_a_leak_prints_verdict_checkpoints_top_and_traces() =>
        Golden.Verify("report-leak.txt", LeakingProfile().Report());

    [Fact]
    public void The_report_without_a_profile_says_why_and_keeps_the_exact_figures() =>
        Golden.Verify("report-no-profile.txt", UnprofiledPlateau().Report());

    [Fact]
    public void Nothing_rising_outside_the_heap_leaves_the_report_as_it_was()
    {
        var flat = new LeakProfile(UnprofiledPlateauRun() with { OutsideHeap = Outside(assemblyPerIteration: false) });

        flat.Report().Should().Be(UnprofiledPlateau().Report());
    }

    [Fact]
    public void The_report_shows_the_counters_outside_the_heap_and_names_the_new_assemblies_when_one_rises() =>
        Golden.Verify("report-outside-heap.txt", new LeakProfile(UnprofiledPlateauRun() with { OutsideHeap = Outside(assemblyPerIteration: true) }).Report());

    [Fact]
    public void A_heap_bound_that_holds_fails_on_rising_assemblies_with_their_sentence_then_the_report()
    {
        var profile = new LeakProfile(UnprofiledPlateauRun() with { OutsideHeap = Outside(assemblyPerIteration: true) });

        var act = () => profile.Should().NotRetainMoreThan(1.MB(), "because {0} are generated once", "serializers");

        Golden.Verify("assertion-outside-heap.txt", act.Should().Throw<XunitException>(profile.Report()).Which.Message);
    }

    [Fact]
    public void An_explicit_assertion_outside_the_heap_fails_on_a_profile_that_was_not_measured_there()
    {
        var act = () => UnprofiledPlateau().Should().NotLeakHandles();

        act.Should().Throw<XunitException>().WithMessage("Expected profile to have no steady growth in open handles, but it was not measured outside the GC heap.*");
    }

    [Fact]
    public void Top_is_pprof_shaped_and_ranks_by_absolute_flat()
    {
        var top = Top.Of(LeakingProfile().Profiles!.Diff, SampleValue.InuseSpace);

        top.Rows.Select(r => r.Function).Should().StartWith(["Shop.Cart.Add", "System.Collections.Generic.List`1[System.__Canon].set_Capacity", "Shop.Cart.Describe{T}"]);
        top.Rows.Single(r => r.Function == Test.Function).Should().Be(new TopRow(Test.Function, 0, 1_945_600 + 131_096 - 102_400, 21));
        top.Total.Should().Be(1_945_600 + 131_096 + 102_400, "pprof's total is the sum of absolute values");
    }

    [Fact]
    public void Reports_do_not_depend_on_the_current_culture()
    {
        var invariant = LeakingProfile().Report();
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            LeakingProfile().Report().Should().Be(invariant);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void A_failed_assertion_message_is_the_sentence_then_the_report()
    {
        var act = () => LeakingProfile().Should().NotRetainMoreThan(512.Bytes().PerIteration(), "because {0} are independent", "carts");

        var message = act.Should().Throw<XunitException>().Which.Message;
        Golden.Verify("assertion-per-iteration.txt", message);
    }

    [Fact]
    public void A_passing_assertion_chains()
    {
        var profile = LeakingProfile();
        profile.Should().NotRetainMoreThan(2.MB()).And.NotRetainMoreThan(2.KB().PerIteration());
    }

    [Fact]
    public void A_null_profile_fails_plainly()
    {
        var act = () => ((LeakProfile)null!).Should().NotRetainMoreThan(1.MB());
        act.Should().Throw<XunitException>().WithMessage("Expected profile to be measured, but found <null>.");
    }

    [Fact]
    public void A_negative_bound_is_refused_in_one_sentence()
    {
        var act = () => LeakingProfile().Should().NotRetainMoreThan(new ByteSize(-5));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("The bound must be zero or more bytes, but was -5 bytes.*");
    }
}
