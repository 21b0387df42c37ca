using System.Runtime.CompilerServices;
using LeakAssert.Snapshots;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace LeakAssert.Tests;

/// <summary>
/// Leak groups on the shapes real leaks take: each test leaks one way through Leak.Profile and its first group must
/// name the object each iteration adds, the holder and its field, and count one per iteration; what was alive before
/// the stretch, what came once and what LeakAssert made itself is never a group.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class LeakGroupTests(ITestOutputHelper output)
{
    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    [Fact]
    public void A_static_list_is_one_group_held_by_the_static_field_and_nothing_else_is_listed()
    {
        var profile = Leak.Profile(ShapeList.Add, iterations: 2_000, Quick);
        ShapeList.Sink.Clear();

        var report = Report(profile);
        profile.Leaks.Should().ContainSingle(report);
        var g = profile.Leaks[0];
        Expect(g, typeof(byte[]), "LeakAssert.Tests.ShapeList", "Sink", report);
        g.RootKind.Should().Be(RootKind.StaticField, report);
        report.Should().Contain("What leaks: 1 leak over").And.Contain("  static field LeakAssert.Tests.ShapeList.Sink\n  ├ List<Byte[]> items");

        // The .leaks.json artifact carries the same group.
        using var json = new MemoryStream();
        Reporting.LeaksJson.Write(json, profile.HeapGrowth!);
        using var doc = System.Text.Json.JsonDocument.Parse(json.ToArray());
        var leak = doc.RootElement.GetProperty("leaks")[0];
        leak.GetProperty("signature").GetString().Should().Be(g.Signature, report);
        leak.GetProperty("boundaryType").GetString().Should().Be("System.Byte[]", report);
        leak.GetProperty("holderField").GetString().Should().Be("Sink", report);
        leak.GetProperty("countPerIteration").GetDouble().Should().BeApproximately(1, 0.01, report);
        leak.GetProperty("path").GetArrayLength().Should().Be(g.Path.Count, report);
    }

    [Fact]
    public void The_trace_is_one_node_a_line_with_framework_hops_folded_and_the_holder_and_boundary_marked()
    {
        var group = new LeakGroup
        {
            Signature = LeakGroups.Sign("Contoso.Web.RateFeed", "RateChanged", "Contoso.Web.TickerHandler"),
            BoundaryType = "Contoso.Web.TickerHandler",
            HolderType = "Contoso.Web.RateFeed",
            HolderField = "RateChanged",
            RootKind = RootKind.StaticField,
            Root = "static field Contoso.Web.Program.App",
            Count = 6_729,
            RetainedBytes = 6_729L * 1_240,
            Iterations = 6_729,
            Halves = (3_364, 3_365),
            Path =
            [
                new("System.Lazy`1[Microsoft.AspNetCore.Builder.WebApplication]", "_value", LeakNodeRole.Old, false, false),
                new("Microsoft.AspNetCore.Builder.WebApplication", "_host", LeakNodeRole.Old, false, false),
                new("Microsoft.Extensions.Hosting.Internal.Host", "Services", LeakNodeRole.Old, false, false),
                new("Microsoft.Extensions.DependencyInjection.ServiceProvider", "Root", LeakNodeRole.Old, false, false),
                new("Contoso.Web.RateFeed", "RateChanged (event)", LeakNodeRole.Holder, true, false),
                new("System.EventHandler`1[System.Decimal]", "_invocationList", LeakNodeRole.New, false, true),
                new("System.Object[]", null, LeakNodeRole.New, false, true),
                new("System.EventHandler`1[System.Decimal]", "_target", LeakNodeRole.New, false, true),
                new("Contoso.Web.TickerHandler", null, LeakNodeRole.Boundary, true, false),
            ],
            Retains = [new("System.Byte[]", 6_729, 6_729L * 1_048), new("Contoso.Web.TickerHandler", 6_729, 6_729L * 32), new("System.EventHandler`1[System.Decimal]", 6_729, 6_729L * 64)],
        };
        var lines = new List<string> { Reporting.LeakTrace.Header(1, group) };
        lines.AddRange(Reporting.LeakTrace.Lines(group, "  "));
        lines.Add(Reporting.LeakTrace.Retains(group, "     "));

        lines.Should().OnlyContain(l => l.Length <= Reporting.LeakTrace.MaxLine);
        Golden.Verify("leak-trace.txt", string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void A_dictionary_cache_names_its_values_held_by_the_dictionary_s_field()
    {
        var profile = Leak.Profile(ShapeCache.Add, iterations: 2_000, Quick);
        ShapeCache.Orders.Clear();

        Expect(First(profile), typeof(ShapeOrder), "LeakAssert.Tests.ShapeCache", "Orders", Report(profile));
        First(profile).Retains.Should().Contain(t => t.TypeName == HeapSnapshot.NameOf(typeof(byte[])), "each order's lines are its own");
    }

    [Fact]
    public void An_event_on_a_singleton_names_the_subscriber_not_the_copied_invocation_list()
    {
        var profile = Leak.Profile(() => ShapeFeed.Instance.Subscribe(), iterations: 1_000, Quick);
        ShapeFeed.Instance.Clear();

        var report = Report(profile);
        Expect(First(profile), typeof(ShapeSubscriber), "LeakAssert.Tests.ShapeFeed", "Changed", report);
        report.Should().Contain("new storage:", "the delegates between the event and its subscribers are the event's storage");
    }

    [Fact]
    public void A_timer_never_disposed_names_its_state_held_by_the_timer_queue()
    {
        // Nothing of the test's holds the timers (that is the leak); they are due in an hour, after the test run.
        var profile = Leak.Profile(ShapeTimers.Start, iterations: 1_000, Quick);

        var g = First(profile);
        g.BoundaryType.Should().Be(HeapSnapshot.NameOf(typeof(ShapeTimerState)), Report(profile));
        g.HolderType.Should().Be("System.Threading.TimerQueue", Report(profile));
        g.CountPerIteration.Should().BeApproximately(1, 0.01, Report(profile));
    }

    [Fact]
    public void Registrations_on_a_long_lived_token_name_the_callback_s_state_held_by_the_token()
    {
        var profile = Leak.Profile(ShapeToken.Register, iterations: 2_000, Quick);
        ShapeToken.Reset();

        var g = First(profile);
        g.BoundaryType.Should().Be(HeapSnapshot.NameOf(typeof(ShapeRegistrationState)), Report(profile));
        g.HolderType.Should().StartWith("System.Threading.CancellationTokenSource", Report(profile));
        g.CountPerIteration.Should().BeApproximately(1, 0.01, Report(profile));
    }

    [Fact]
    public void Scopes_pushed_on_an_AsyncLocal_are_one_group_each_scope_counted_though_each_links_the_last()
    {
        var profile = Leak.Profile(ShapeScopes.Push, iterations: 2_000, Quick);
        ShapeScopes.Reset();

        var g = First(profile);
        g.BoundaryType.Should().Be(HeapSnapshot.NameOf(typeof(ShapeScope)), Report(profile));
        // Leak.Profile carries the workload's execution context from one iteration to the next, as a plain loop's thread would.
        (g.HolderType, g.HolderField).Should().Be(("LeakAssert.Measurement.Workload", "_flow"), Report(profile));
        g.CountPerIteration.Should().BeApproximately(1, 0.01, Report(profile));
    }

    [Fact]
    public void A_thread_per_call_is_a_group_of_threads_held_by_a_root()
    {
        try
        {
            var profile = Leak.Profile(ShapeThreads.Start, iterations: 200, Quick);

            var threads = profile.Leaks.FirstOrDefault(l => l.BoundaryType == HeapSnapshot.NameOf(typeof(Thread)));
            threads.Should().NotBeNull(Report(profile));
            threads!.RootKind.Should().Be(RootKind.StrongHandle, Report(profile));
            threads.CountPerIteration.Should().BeApproximately(1, 0.05, "the pool may add a thread of its own\n" + Report(profile));
        }
        finally
        {
            ShapeThreads.StopAll();
        }
    }

    [Fact]
    public void Transient_disposables_resolved_from_the_root_provider_are_held_by_its_root_scope()
    {
        using var provider = new ServiceCollection().AddTransient<ShapeDisposable>().BuildServiceProvider();
        var profile = Leak.Profile(() => provider.GetService(typeof(ShapeDisposable)), iterations: 2_000, Quick);

        var g = First(profile);
        var report = Report(profile);
        g.BoundaryType.Should().Be(HeapSnapshot.NameOf(typeof(ShapeDisposable)), report);
        g.HolderType.Should().Be("Microsoft.Extensions.DependencyInjection.ServiceLookup.ServiceProviderEngineScope", report);
        g.HolderField.Should().Be("_disposables", report);
        g.CountPerIteration.Should().BeApproximately(1, 0.01, report);
    }

    [Fact]
    public void A_chain_and_a_flat_list_of_the_same_nodes_give_the_same_group()
    {
        var chain = Leak.Profile(ShapeChain.Link, iterations: 20_000, Quick);
        ShapeChain.Head = null;
        var flat = Leak.Profile(ShapeChain.Append, iterations: 20_000, Quick);
        ShapeChain.Flat.Clear();

        var (c, f) = (First(chain), First(flat));
        c.BoundaryType.Should().Be(HeapSnapshot.NameOf(typeof(ShapeNode)), Report(chain));
        f.BoundaryType.Should().Be(c.BoundaryType, Report(flat));
        c.CountPerIteration.Should().BeApproximately(1, 0.01, Report(chain));
        f.CountPerIteration.Should().BeApproximately(1, 0.01, Report(flat));
        c.RetainedBytesPerIteration.Should().BeApproximately(f.RetainedBytesPerIteration, 1, "each node retains its payload either way\n" + Report(chain) + Report(flat));
        (c.HolderType, c.HolderField).Should().Be(("LeakAssert.Tests.ShapeChain", "Head"), Report(chain));
        (f.HolderType, f.HolderField).Should().Be(("LeakAssert.Tests.ShapeChain", "Flat"), Report(flat));
    }

    [Fact]
    public void A_leak_left_by_an_earlier_run_is_not_in_a_later_run_s_groups()
    {
        try
        {
            var earlier = Leak.Profile(ShapeList.Add, iterations: 2_000, Quick);
            var later = Leak.Profile(ShapeCache.Add, iterations: 2_000, Quick);

            First(earlier).HolderField.Should().Be("Sink", Report(earlier));
            var report = Report(later);
            later.Leaks.Should().NotContain(g => g.HolderField == "Sink", "the list's arrays were alive before this run\n" + report);
            Expect(First(later), typeof(ShapeOrder), "LeakAssert.Tests.ShapeCache", "Orders", report);
        }
        finally
        {
            ShapeList.Sink.Clear();
            ShapeCache.Orders.Clear();
        }
    }

    [Fact]
    public void A_cache_filled_once_in_the_stretch_and_LeakAssert_s_own_objects_are_never_groups()
    {
        var calls = 0;
        var profile = Leak.Profile(() =>
        {
            ShapeList.Add();
            // The measured pass, its warmup and the first part of the repeat pass come before this call.
            if (++calls == 2_600) ShapeOnce.Fill();
        }, iterations: 2_000, Quick with { Warmup = 200 });
        ShapeList.Sink.Clear();
        ShapeOnce.Items.Clear();

        var report = Report(profile);
        calls.Should().BeGreaterThan(2_600, "the fill falls inside the repeat pass\n" + report);
        profile.Leaks.Should().ContainSingle(report);
        profile.Leaks[0].HolderField.Should().Be("Sink", report);
        profile.HeapGrowth!.OneOffBytes.Should().BeGreaterThan(1_000 * 24, "the filled cache is one-off growth\n" + report);
        report.Should().Contain("One-off growth, not listed: +");
        foreach (var g in profile.Leaks)
        {
            g.HolderType.Should().NotContain("EventSource", report).And.NotStartWith("LeakAssert.Measurement", report).And.NotStartWith("LeakAssert.Snapshots", report);
            g.BoundaryType.Should().NotStartWith("Microsoft.Diagnostics", report);
        }
    }

    [Fact]
    public void A_group_is_accepted_by_its_signature_or_its_holder_with_the_reason_printed()
    {
        var first = Leak.Profile(ShapeList.Add, iterations: 2_000, Quick);
        var signature = First(first).Signature;
        var bySignature = Leak.Profile(ShapeList.Add, iterations: 2_000, Quick with { AcceptedGrowth = [AcceptedGrowth.Signature(signature, "the audit list is trimmed nightly")] });
        var byHolder = Leak.Profile(ShapeList.Add, iterations: 2_000, Quick with { AcceptedGrowth = [AcceptedGrowth.HeldBy(typeof(ShapeList), nameof(ShapeList.Sink), "kept on purpose")] });
        ShapeList.Sink.Clear();

        signature.Should().MatchRegex("^[0-9a-f]{8}$");
        bySignature.Leaks.Should().BeEmpty(Report(bySignature));
        bySignature.HeapGrowth!.AcceptedLeaks.Should().ContainSingle(a => a.Group.Signature == signature, Report(bySignature));
        Report(bySignature).Should().Contain($"Accepted [{signature}]: ").And.Contain(": the audit list is trimmed nightly");
        byHolder.Leaks.Should().BeEmpty(Report(byHolder));
        Report(byHolder).Should().Contain(": kept on purpose");
    }

    [Fact]
    public void An_accepted_signature_or_holder_that_cannot_match_is_refused_in_one_sentence()
    {
        FluentActions.Invoking(() => AcceptedGrowth.Signature("a3f9", "x")).Should().Throw<ArgumentException>()
            .WithMessage("A leak signature is the eight lower-case hex digits the report prints in brackets (\"[3fa9c2d1]\"), but it was \"a3f9\".*");
        FluentActions.Invoking(() => AcceptedGrowth.HeldBy(typeof(ShapeList), "Nope", "x")).Should().Throw<ArgumentException>()
            .WithMessage("An accepted holder names a field, property or event of ShapeList, but ShapeList has none called \"Nope\".*");
    }

    private static void Expect(LeakGroup g, Type boundary, string holderType, string holderField, string report)
    {
        g.BoundaryType.Should().Be(HeapSnapshot.NameOf(boundary), report);
        (g.HolderType, g.HolderField).Should().Be((holderType, holderField), report);
        g.CountPerIteration.Should().BeApproximately(1, 0.01, report);
    }

    private static LeakGroup First(LeakProfile profile)
    {
        profile.Leaks.Should().NotBeEmpty(profile.Report());
        return profile.Leaks[0];
    }

    private string Report(LeakProfile profile)
    {
        var report = profile.Report();
        output.WriteLine(report);
        return report;
    }
}

internal sealed class ShapeDisposable : IDisposable
{
    public readonly byte[] Handle = new byte[100];

    public void Dispose() => Handle[0] = 1;
}

internal static class ShapeList
{
    public static readonly List<byte[]> Sink = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Add() => Sink.Add(new byte[256]);
}

internal sealed class ShapeOrder
{
    public readonly byte[] Lines = new byte[200];
}

internal static class ShapeCache
{
    public static readonly Dictionary<Guid, ShapeOrder> Orders = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Add() => Orders[Guid.NewGuid()] = new ShapeOrder();
}

internal sealed class ShapeSubscriber
{
    private readonly byte[] _state = new byte[128];

    public void OnChanged(object? sender, EventArgs e) => _state[0]++;
}

internal sealed class ShapeFeed
{
    public static readonly ShapeFeed Instance = new();

    public event EventHandler? Changed;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Subscribe() => Changed += new ShapeSubscriber().OnChanged;

    public void Clear() => Changed = null;

    public void Raise() => Changed?.Invoke(this, EventArgs.Empty);
}

internal sealed class ShapeTimerState
{
    public readonly byte[] Buffer = new byte[512];
    public Timer? Timer;
}

internal static class ShapeTimers
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Start()
    {
        var state = new ShapeTimerState();
        state.Timer = new Timer(static s => ((ShapeTimerState)s!).Buffer[0]++, state, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
    }
}

internal sealed class ShapeRegistrationState
{
    public readonly byte[] Data = new byte[96];
}

internal static class ShapeToken
{
    private static CancellationTokenSource source = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Register() => source.Token.Register(static s => ((ShapeRegistrationState)s!).Data[0]++, new ShapeRegistrationState());

    public static void Reset()
    {
        source.Dispose();
        source = new CancellationTokenSource();
    }
}

internal sealed class ShapeScope(ShapeScope? parent)
{
    public readonly ShapeScope? Parent = parent;
    public readonly byte[] Items = new byte[64];
}

internal static class ShapeScopes
{
    private static readonly AsyncLocal<ShapeScope?> Current = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Push() => Current.Value = new ShapeScope(Current.Value);

    public static void Reset() => Current.Value = null;
}

internal sealed class ShapeThreadWork(ManualResetEventSlim stop)
{
    // Enough for the heap's own growth to rise plainly: at 256 B a thread, a loaded run once read as levelling off,
    // so no repeat pass and no snapshots ran.
    public readonly byte[] Buffer = new byte[4_096];

    // Kept alive to the end: once the JIT optimises Run, it stops reporting a dead 'this' on the thread's stack, and
    // the buffer went after about 110 threads in a loaded run.
    public void Run()
    {
        stop.Wait();
        GC.KeepAlive(this);
    }
}

internal static class ShapeThreads
{
    private static readonly ManualResetEventSlim Stop = new();
    private static int started;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Start()
    {
        Stop.Reset();
        new Thread(new ShapeThreadWork(Stop).Run) { IsBackground = true, Name = "shape " + started++ }.Start();
    }

    public static void StopAll() => Stop.Set();
}

internal sealed class ShapeNode(ShapeNode? next)
{
    public readonly ShapeNode? Next = next;
    public readonly byte[] Payload = new byte[32];
}

internal static class ShapeChain
{
    public static ShapeNode? Head;
    public static readonly List<ShapeNode> Flat = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Link() => Head = new ShapeNode(Head);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Append() => Flat.Add(new ShapeNode(null));
}

internal sealed class ShapeOnceItem
{
    public readonly long Id = Environment.TickCount64;
}

internal static class ShapeOnce
{
    public static readonly List<ShapeOnceItem> Items = [];

    public static void Fill()
    {
        for (var i = 0; i < 1_000; i++) Items.Add(new ShapeOnceItem());
    }
}
