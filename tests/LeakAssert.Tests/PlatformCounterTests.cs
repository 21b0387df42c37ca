using Fixtures;
using LeakAssert.Measurement;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>
/// Other operating systems' counter rules, run here through the figures .NET's Process class gives: on macOS it gives
/// no private memory and no handle count, so a native or handle leak there is "not measured" (an assertion on it
/// fails saying so, the defaults pass and the report says what was not measured), never a flat reading that passes.
/// The Windows rules read Process's private bytes and handle count, which Linux fills in too: the leaks are caught.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class PlatformCounterTests
{
    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    private static LeakProfile Measure(CounterSource source, Action leak, Action release, int iterations)
    {
        using var _ = ProcessCounters.Use(source);
        try
        {
            return Leak.Profile(leak, iterations, Quick);
        }
        finally
        {
            release();
        }
    }

    [Fact]
    public void On_macOS_a_native_leak_is_not_measured_an_assertion_on_it_fails_and_the_report_says_so()
    {
        var profile = Measure(ProcessApiCounters.MacLike(), NativeBuffers.AllocateAndKeep, NativeBuffers.Release, 1_000);

        profile.OutsideHeap!.NativeMemory.IsMeasured.Should().BeFalse(profile.Report());
        var perIteration = () => profile.Should().NotGrowNativeMemoryMoreThan(16.KB().PerIteration());
        perIteration.Should().Throw<XunitException>(profile.Report())
            .WithMessage("Expected profile to have at most 16kB of native memory growth per iteration, but it was not measured on this platform: macOS does not give this process's native memory.*");
        var total = () => profile.Should().NotGrowNativeMemoryMoreThan(32.MB());
        total.Should().Throw<XunitException>(profile.Report()).WithMessage("*but it was not measured on this platform: macOS does not give this process's native memory.*");
        profile.Should().NotRetainMoreThan(1.KB().PerIteration(), "the defaults pass what this platform does not measure\n{0}", profile.Report());
        profile.Report().Should().Contain("Not measured on this platform: macOS does not give this process's native memory; macOS does not give this process's handles. The defaults pass them; an assertion on them fails.");
    }

    [Fact]
    public void On_macOS_a_handle_leak_is_not_measured_and_never_reads_as_flat()
    {
        var profile = Measure(ProcessApiCounters.MacLike(), OpenFiles.OpenAndKeep, OpenFiles.Release, 300);

        var act = () => profile.Should().NotLeakHandles();
        act.Should().Throw<XunitException>(profile.Report())
            .WithMessage("Expected profile to have no steady growth in open handles, but it was not measured on this platform: macOS does not give this process's handles.*");
        profile.OutsideHeap!.Handles.Readings.Should().BeEmpty("a counter the platform does not give has no readings to fit\n{0}", profile.Report());
    }

    [Fact]
    public void With_the_Windows_figures_native_and_handle_leaks_are_caught()
    {
        var windowsLike = new ProcessApiCounters("Windows", privateBytes: true, handles: true);
        var native = Measure(windowsLike, NativeBuffers.AllocateAndKeep, NativeBuffers.Release, 1_000);
        var files = Measure(windowsLike, OpenFiles.OpenAndKeep, OpenFiles.Release, 300);

        var nativeAct = () => native.Should().NotGrowNativeMemoryMoreThan(16.KB().PerIteration());
        nativeAct.Should().Throw<XunitException>(native.Report()).WithMessage("*grew native memory by *per iteration*still rising at the end*");
        var handlesAct = () => files.Should().NotLeakHandles();
        handlesAct.Should().Throw<XunitException>(files.Report()).WithMessage("*kept handles open at 1 per iteration, still rising at the end*");
        native.Report().Should().NotContain("Not measured on this platform", native.Report());
    }

    [Fact]
    public void The_source_for_this_machine_gives_every_figure()
    {
        var source = CounterSource.ForThisProcess();

        source.Platform.Should().Be("Linux");
        source.PrivateBytes().Should().BePositive();
        source.Handles().Should().BePositive();
        source.ThreadNames().Should().NotBeNullOrEmpty();
    }
}
