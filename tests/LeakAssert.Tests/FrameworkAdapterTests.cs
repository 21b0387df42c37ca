using System.Globalization;

namespace LeakAssert.Tests;

/// <summary>
/// [LeakTest] proved in the real runners: each test runs a sample or fixture project in a child <c>dotnet test</c>
/// and reads its TRX. The same facts hold for xUnit and NUnit; the two classes below say what differs.
/// </summary>
public abstract class FrameworkAdapterTests
{
    protected abstract string Sample { get; }
    protected abstract string Fixture { get; }
    /// <summary>A project whose only tests are [LeakTest]s: no other test attribute, no code naming the test framework.</summary>
    protected abstract string OnlyLeakTests { get; }
    /// <summary>The framework assembly a runner looks for among a test assembly's references.</summary>
    protected abstract string FrameworkAssembly { get; }
    /// <summary>The filter property a category or trait is selected by.</summary>
    protected abstract string Category { get; }
    /// <summary>
    /// The sample's leaking code, expected as row 1 of top: the constructor, or a caller when the JIT inlined the
    /// constructor there (inlined frames are not in a runtime stack; a busy machine changes what tiering inlines).
    /// </summary>
    protected abstract string[] LeakingMethods { get; }
    /// <summary>The sample's source files; one of them is expected with a line number in traces.</summary>
    protected abstract string[] LeakingFiles { get; }
    protected abstract int SampleTests { get; }

    [Fact]
    public void Plain_dotnet_test_runs_the_fixed_components_and_leaves_out_the_demonstrations()
    {
        var run = ChildTestRun.Run(Sample, filter: null);

        run.ExitCode.Should().Be(0, run.Console);
        run.Results.Should().HaveCount(SampleTests).And.OnlyContain(r => r.Passed, run.Console);
        run.Results.Should().NotContain(r => r.Name.Contains("Demonstration", StringComparison.Ordinal));
    }

    [Fact]
    public void A_leak_fails_with_the_report_as_its_message_and_its_artifacts_on_disk()
    {
        var artifacts = Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName;
        var run = ChildTestRun.Run(Sample, $"{Category}=LeakDemonstration", ("LEAKASSERT_ARTIFACTS", artifacts));

        run.ExitCode.Should().NotBe(0);
        run.Results.Should().HaveCount(2).And.OnlyContain(r => r.Failed, run.Console);
        foreach (var result in run.Results)
        {
            var message = result.Message;
            message.Should().Contain("FAILED: expected at most").And.Contain("Trend: still rising at the end, as a leak does.");
            var topRow = message.Split('\n').SkipWhile(l => !l.StartsWith("      flat  flat%", StringComparison.Ordinal)).Skip(1).First();
            LeakingMethods.Should().Contain(m => topRow.EndsWith("  " + m, StringComparison.Ordinal), message);
            message.Should().Contain("traces (inuse_space):");
            LeakingFiles.Should().Contain(f => message.Contains($" ({f}:", StringComparison.Ordinal), message);
            // The failure names its files, and they are there.
            var listed = message.Split('\n').SkipWhile(l => l != "Artifacts:").Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            listed.Should().HaveCount(6, message);
            listed.Should().OnlyContain(f => f.StartsWith(artifacts, StringComparison.Ordinal) && File.Exists(f));
            listed.Select(Path.GetFileName).Should().Contain(n => n!.EndsWith(".report.txt", StringComparison.Ordinal))
                .And.Contain(n => n!.EndsWith(".report.html", StringComparison.Ordinal))
                .And.Contain(n => n!.EndsWith(".leaks.json", StringComparison.Ordinal))
                .And.Contain(n => n!.EndsWith(".diff.pb.gz", StringComparison.Ordinal));
            var report = File.ReadAllText(listed.Single(f => f.EndsWith(".report.txt", StringComparison.Ordinal)));
            report.Should().StartWith("FAILED: expected at most");
            LeakingFiles.Should().Contain(f => report.Contains($" ({f}:", StringComparison.Ordinal));
            // No frames of LeakAssert or FluentAssertions: the report is the message.
            result.StackTrace.Should().NotContain("FluentAssertions.").And.NotContain("LeakAssert.Assertions.");
            AssertAttachments(result, listed);
        }
        // Folder per test, named {Class}.{Method}-{hash of the exact name}.
        Directory.GetDirectories(artifacts).Select(Path.GetFileName).Should().HaveCount(2)
            .And.OnlyContain(d => System.Text.RegularExpressions.Regex.IsMatch(d!, @"\.Demonstration_\w+-[0-9a-f]{8}$"));
    }

    protected virtual void AssertAttachments(ChildTestResult result, IReadOnlyList<string> files) { }

    [Fact]
    public void A_filter_selects_single_leak_tests_and_data_rows_are_leak_tests_of_their_own()
    {
        var single = ChildTestRun.Run(Sample, SingleFilter);
        single.Results.Should().ContainSingle(single.Console).Which.Passed.Should().BeTrue(single.Console);

        var rows = ChildTestRun.Run(Sample, RowsFilter);
        rows.Results.Should().HaveCount(2, rows.Console).And.OnlyContain(r => r.Passed, rows.Console);
    }

    protected abstract string SingleFilter { get; }
    protected abstract string RowsFilter { get; }

    [Fact]
    public void A_project_whose_only_tests_are_leak_tests_runs_them()
    {
        var run = ChildTestRun.Run(OnlyLeakTests, filter: null, ("LEAKASSERT_ARTIFACTS", Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName));

        run.Results.Should().HaveCount(2, run.Console);
        run.Single("Garbage_is_not_retained").Passed.Should().BeTrue(run.Console);
        var kept = run.Single("What_the_body_keeps_is_caught");
        kept.Failed.Should().BeTrue(run.Console);
        kept.Message.Should().Contain("FAILED: expected at most 0 retained per iteration").And.Contain("still rising").And.Contain("Artifacts:");
        run.ExitCode.Should().NotBe(0);
        // The reference the adapter's build file adds. NUnit's adapter skips an assembly without it (no test above
        // would run); xunit's runner looks for it first and only then for xunit.core.dll beside the assembly.
        ChildTestRun.AssemblyReferences(OnlyLeakTests).Should().Contain(FrameworkAssembly);
    }

    [Fact]
    public void Parallel_tests_retaining_memory_do_not_pollute_a_leak_test()
    {
        var timeline = Path.Combine(Directory.CreateTempSubdirectory("leakassert-timeline-").FullName, "timeline.txt");
        var run = ChildTestRun.Run(Fixture, $"{Category}=Isolation", ("LEAKASSERT_TIMELINE", timeline));

        run.Results.Where(r => r.Name.Contains("leak_test_is_not_polluted", StringComparison.Ordinal))
            .Should().HaveCount(2).And.OnlyContain(r => r.Passed, run.Console);
        run.Results.Where(r => r.Name.Contains("Retains_memory", StringComparison.Ordinal)).Should().HaveCount(3).And.OnlyContain(r => r.Passed);
        // The control proves the polluters pollute: the same measurement outside [LeakTest] fails.
        run.Single("without_LeakTest_sees_the_polluters").Failed.Should().BeTrue(run.Console);

        var spans = File.ReadAllLines(timeline).Select(l => l.Split(' ')).Select(p => (Name: p[0], Start: long.Parse(p[1], CultureInfo.InvariantCulture), End: long.Parse(p[2], CultureInfo.InvariantCulture))).ToArray();
        var polluters = spans.Where(s => s.Name == "polluter").ToArray();
        var leakTests = spans.Where(s => s.Name.StartsWith("leaktest", StringComparison.Ordinal)).ToArray();
        var control = spans.Single(s => s.Name == "control");
        polluters.Should().HaveCount(3);
        leakTests.Should().NotBeEmpty();
        polluters.Max(p => p.Start).Should().BeLessThan(polluters.Min(p => p.End), "the polluters ran in parallel with each other");
        control.Start.Should().BeLessThan(polluters.Max(p => p.End), "the control ran while polluters did");
        leakTests.Min(t => t.Start).Should().BeGreaterThan(polluters.Max(p => p.End), "no leak test ran while a polluter did");
    }

    [Fact]
    public void The_body_form_runs_every_iteration_on_one_instance_and_awaits_async_bodies()
    {
        var run = ChildTestRun.Run(Fixture, $"{Category}=Instance", ("LEAKASSERT_ARTIFACTS", Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName));

        run.Single("allocations_are_not_counted").Passed.Should().BeTrue(run.Console);
        var kept = run.Single("What_the_body_keeps_in_the");
        kept.Failed.Should().BeTrue();
        kept.Message.Should().Contain("FAILED: expected at most 0 retained per iteration").And.Contain("still rising");
        kept.StackTrace.Should().NotContain("LeakAssert.");
        run.Single("An_async_body_is_awaited").Message.Should().Contain("FAILED: expected at most 0 retained per iteration");
        run.Single("Both_bounds_hold_for_garbage").Passed.Should().BeTrue(run.Console);
        run.Single("A_skipped_leak_test_does_not_run").Outcome.Should().Be("NotExecuted", run.Console);
        var plainAsync = run.Single("The_plain_form_awaits_an_async_test");
        plainAsync.Failed.Should().BeTrue(run.Console);
        plainAsync.Message.Should().Contain("FAILED: expected at most 0 retained per iteration").And.Contain("Artifacts:");
        var threw = run.Single("A_body_that_throws");
        threw.Failed.Should().BeTrue();
        threw.Message.Should().Contain("the workload broke").And.NotContain("FAILED");
    }

    [Fact]
    public void Bad_attribute_arguments_fail_their_own_test_with_one_sentence()
    {
        var run = ChildTestRun.Run(Fixture, $"{Category}=BadArguments");

        run.Single("A_valid_leak_test_still_runs").Passed.Should().BeTrue(run.Console);
        Expect(run, "Iterations_without_a_bound", "Iterations, Warmup and TimeBudgetSeconds make the test body the workload, which needs a bound: set MaxRetainedBytes or MaxRetainedBytesPerIteration, or remove them and call Leak.Profile in the body.");
        Expect(run, "Zero_iterations", "iterations must be between 1 and 100,000,000, but was 0.");
        Expect(run, "Negative_bound", "MaxRetainedBytes must be zero or more bytes, but was -1.");
        Expect(run, "Zero_time_budget", "TimeBudgetSeconds must be between 0.01 and 3600, but was 0.");
        run.Single("Returns_a_value").Failed.Should().BeTrue();
        run.Single("Returns_a_value").Message.Should().Contain("return");
        // The body leaks 1 kB into a static list and never profiles: without a measurement it would pass.
        Expect(run, "A_body_that_never_profiles", NothingMeasured);
        Expect(run, "An_async_void_body", AsyncVoidBody);
    }

    /// <summary>A bare [LeakTest] whose body measured nothing, whatever the framework.</summary>
    internal const string NothingMeasured = "the body measured nothing, so it would pass whatever it leaks; either call Leak.Profile in the body, or set a bound (MaxRetainedBytes or MaxRetainedBytesPerIteration) to make the body the workload.";

    /// <summary>A body-form [LeakTest] on an async void method, whatever the framework (NUnit and xunit v3 refuse one in words of their own).</summary>
    internal const string AsyncVoidBody = "an async void body cannot be awaited, so only its part before the first await would be measured; return Task instead.";

    private static void Expect(ChildTestRun run, string test, string sentence)
    {
        var result = run.Single(test);
        result.Failed.Should().BeTrue(run.Console);
        result.Message.Should().Contain($".{test}: {sentence}");
        result.Message.Trim().Split('\n').Should().ContainSingle("the error is one sentence");
    }
}

public sealed class XunitAdapterTests : FrameworkAdapterTests
{
    protected override string Sample => "samples/LeakAssert.Xunit.Sample";
    protected override string Fixture => "tests/Fixtures/LeakAssert.Xunit.Fixture";
    protected override string OnlyLeakTests => "tests/Fixtures/LeakAssert.Xunit.OnlyLeakTests";
    protected override string FrameworkAssembly => "xunit.core";
    protected override string Category => "Category";
    protected override string[] LeakingMethods =>
    [
        "XunitSample.LeakyDisplay..ctor",
        "XunitSample.DisplayLeakTests.<Demonstration_a_display_that_never_unsubscribes_leaks>b__4_0",
        "XunitSample.DisplayLeakTests.Demonstration_a_body_that_leaks_fails_with_the_report",
    ];
    protected override string[] LeakingFiles => ["Thermometer.cs", "DisplayLeakTests.cs"];
    protected override int SampleTests => 4;
    protected override string SingleFilter => "FullyQualifiedName~Publishing_a_reading_does_not_leak";
    protected override string RowsFilter => "FullyQualifiedName~Publishing_any_reading_does_not_leak";

    [Fact]
    public void Leaks_outside_the_GC_heap_fail_naming_what_grew_and_their_fixed_twins_pass()
    {
        var run = ChildTestRun.Run(Fixture, $"{Category}=OutsideHeap", ("LEAKASSERT_ARTIFACTS", Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName));

        // The heap bound (1 kB per iteration) holds: the generated assemblies alone fail the body-form leak test.
        var generated = run.Single("generates_an_assembly_per_call");
        generated.Failed.Should().BeTrue(run.Console);
        generated.Message.Should().Contain("FAILED: expected no steady growth in loaded assemblies or assembly load contexts; loaded assemblies at 1 per iteration", run.Console)
            .And.Contain("x GeneratedSerializer (dynamic, load context")
            .And.Contain("Outside the GC heap, at the same checkpoints")
            .And.Contain("Artifacts:");
        run.Single("caches_its_generated_assembly").Passed.Should().BeTrue(run.Console);
        var threads = run.Single("starts_a_thread_per_call");
        threads.Failed.Should().BeTrue(run.Console);
        threads.Message.Should().Contain("Expected profile to have no steady growth in threads (beyond the thread pool's), but it started", run.Console)
            .And.Contain("x \"LeakyWorker\"");
        run.Single("joins_its_thread").Passed.Should().BeTrue(run.Console);
    }
}

public sealed class NUnitAdapterTests : FrameworkAdapterTests
{
    protected override string Sample => "samples/LeakAssert.NUnit.Sample";
    protected override string Fixture => "tests/Fixtures/LeakAssert.NUnit.Fixture";
    protected override string OnlyLeakTests => "tests/Fixtures/LeakAssert.NUnit.OnlyLeakTests";
    protected override string FrameworkAssembly => "nunit.framework";
    protected override string Category => "TestCategory";
    protected override string[] LeakingMethods =>
    [
        "NUnitSample.Session..ctor",
        "NUnitSample.LeakySessions.SignIn",
        "NUnitSample.SessionLeakTests.Demonstration_a_body_that_leaks_fails_with_the_report",
    ];
    protected override string[] LeakingFiles => ["SessionRegistry.cs", "SessionLeakTests.cs"];
    protected override int SampleTests => 4;
    protected override string SingleFilter => "FullyQualifiedName~Signing_in_does_not_leak";
    protected override string RowsFilter => "FullyQualifiedName~Signing_in_several_users_does_not_leak";

    [Fact]
    public void A_project_made_by_dotnet_new_nunit_on_NUnit_4_runs_leak_tests()
    {
        // NUnit 4.3.2 and NUnit3TestAdapter 5.0.0, as the SDK's template pins them: the adapter, built on NUnit 4.1.0,
        // restores without a downgrade and runs there as on NUnit 5.
        var run = ChildTestRun.Run("tests/Fixtures/LeakAssert.NUnit4.Template", filter: null,
            ("LEAKASSERT_ARTIFACTS", Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName));

        run.Results.Should().HaveCount(2, run.Console);
        run.Single("Garbage_is_not_retained").Passed.Should().BeTrue(run.Console);
        var kept = run.Single("What_the_body_keeps_is_caught");
        kept.Failed.Should().BeTrue(run.Console);
        kept.Message.Should().Contain("FAILED: expected at most 0 retained per iteration").And.Contain("Artifacts:");
        ChildTestRun.AssemblyReferences("tests/Fixtures/LeakAssert.NUnit4.Template").Should().Contain("nunit.framework");
    }

    [Fact]
    public void CancelAfter_gives_up_on_a_hung_leak_test_and_fails_it_saying_where()
    {
        var run = ChildTestRun.Run(Fixture, $"{Category}=CancelAfter");

        foreach (var name in new[] { "A_hung_body_is_cancelled", "A_hung_workload_of_the_plain_form_is_cancelled" })
        {
            var result = run.Single(name);
            // NUnit's [CancelAfter] only cancels a token: without LeakAssert giving up on the run, the sleeping
            // iteration would hold the child run forever. NUnit words the failure itself.
            result.Failed.Should().BeTrue(run.Console);
            result.Message.Should().Contain("CancelAfter", run.Console);
        }
    }

    // NUnit attaches every file to the result (TestContext.AddTestAttachment): the TRX lists them.
    protected override void AssertAttachments(ChildTestResult result, IReadOnlyList<string> files) =>
        result.Attachments.Select(Path.GetFileName).Should().BeEquivalentTo(files.Select(Path.GetFileName));
}
