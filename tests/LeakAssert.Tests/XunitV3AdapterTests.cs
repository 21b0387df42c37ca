namespace LeakAssert.Tests;

/// <summary>
/// [LeakTest] on xunit v3 (LeakAssert.XunitV3), proved in a child <c>dotnet test</c> of the v3 fixtures, whose results
/// are read from the TRX. The fixture compiles the xunit v2 fixture's test files against the v3 adapter, so both
/// adapters answer to the same tests.
/// </summary>
public sealed class XunitV3AdapterTests
{
    private const string Fixture = "tests/Fixtures/LeakAssert.XunitV3.Fixture";
    private const string OnlyLeakTests = "tests/Fixtures/LeakAssert.XunitV3.OnlyLeakTests";

    private static string NewArtifactFolder() => Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName;

    [Fact]
    public void A_leak_fails_with_the_report_and_its_artifacts_attached_while_clean_leak_tests_and_data_rows_pass()
    {
        var artifacts = NewArtifactFolder();
        var run = ChildTestRun.Run(Fixture, "Category=Report", ("LEAKASSERT_ARTIFACTS", artifacts));

        run.ExitCode.Should().NotBe(0);
        run.Results.Should().HaveCount(5, run.Console);
        run.Single("Garbage_does_not_leak").Passed.Should().BeTrue(run.Console);
        // One leak test per data row, each under its own name.
        run.Results.Where(r => r.Name.Contains("Garbage_of_any_size_does_not_leak(size: ", StringComparison.Ordinal))
            .Should().HaveCount(2).And.OnlyContain(r => r.Passed, run.Console);
        // Each leak with the line of ReportTests.cs that leaks.
        foreach (var (name, line) in new[] { ("Demonstration_a_static_list_leaks", 17), ("Demonstration_a_body_that_leaks_fails_with_the_report", 22) })
        {
            var result = run.Single(name);
            result.Failed.Should().BeTrue(run.Console);
            result.Message.Should().Contain("FAILED: expected at most 64B retained per iteration")
                .And.Contain("Trend: still rising at the end, as a leak does.")
                .And.Contain("traces (inuse_space):");
            // Its traces name the leaking line: in the body itself, or in the lambda the plain form profiles.
            result.Message.Split('\n').Should().Contain(l => l.Contains(name, StringComparison.Ordinal) && l.Contains($" (ReportTests.cs:{line})", StringComparison.Ordinal), result.Message);
            // No frames of LeakAssert or FluentAssertions: the report is the message.
            result.StackTrace.Should().NotContain("at FluentAssertions.").And.NotContain("at LeakAssert.");
            var listed = result.Message.Split('\n').SkipWhile(l => l.Trim() != "Artifacts:").Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            listed.Should().HaveCount(6, result.Message).And.OnlyContain(f => f.StartsWith(Path.Combine(artifacts, $"ReportTests.{name}-"), StringComparison.Ordinal) && File.Exists(f));
            File.ReadAllText(listed.Single(f => f.EndsWith(".report.txt", StringComparison.Ordinal))).Should().StartWith("FAILED: expected at most 64B");
            // Attached to the result with the same names (the HTML report's marked apart from the text one), and
            // named in the test's output.
            result.Attachments.Select(Path.GetFileName).Should().BeEquivalentTo(listed.Select(f => Path.GetFileName(f).Replace(".report.html", ".report-html.html", StringComparison.Ordinal)));
            foreach (var file in listed) run.Console.Should().Contain(file);
        }
    }

    [Fact]
    public void The_body_form_runs_every_iteration_on_one_instance_and_awaits_async_bodies()
    {
        var run = ChildTestRun.Run(Fixture, "Category=Instance", ("LEAKASSERT_ARTIFACTS", NewArtifactFolder()));

        run.Single("allocations_are_not_counted").Passed.Should().BeTrue(run.Console);
        var kept = run.Single("What_the_body_keeps_in_the");
        kept.Failed.Should().BeTrue(run.Console);
        kept.Message.Should().Contain("FAILED: expected at most 0 retained per iteration").And.Contain("still rising");
        run.Single("An_async_body_is_awaited").Message.Should().Contain("FAILED: expected at most 0 retained per iteration");
        run.Single("Both_bounds_hold_for_garbage").Passed.Should().BeTrue(run.Console);
        run.Single("A_skipped_leak_test_does_not_run").Outcome.Should().Be("NotExecuted", run.Console);
        var plainAsync = run.Single("The_plain_form_awaits_an_async_test");
        plainAsync.Failed.Should().BeTrue(run.Console);
        plainAsync.Message.Should().Contain("Expected profile to have at most 0 retained per iteration").And.Contain("Artifacts:");
        var threw = run.Single("A_body_that_throws");
        threw.Failed.Should().BeTrue(run.Console);
        threw.Message.Should().Contain("the workload broke").And.NotContain("FAILED");
    }

    [Fact]
    public void Parallel_tests_retaining_memory_do_not_pollute_a_leak_test()
    {
        var timeline = Path.Combine(Directory.CreateTempSubdirectory("leakassert-timeline-").FullName, "timeline.txt");
        var run = ChildTestRun.Run(Fixture, "Category=Isolation", ("LEAKASSERT_TIMELINE", timeline));

        run.Results.Where(r => r.Name.Contains("leak_test_is_not_polluted", StringComparison.Ordinal))
            .Should().HaveCount(2).And.OnlyContain(r => r.Passed, run.Console);
        run.Results.Where(r => r.Name.Contains("Retains_memory", StringComparison.Ordinal)).Should().HaveCount(3).And.OnlyContain(r => r.Passed);
        // The control proves the polluters pollute: the same measurement outside [LeakTest] fails.
        run.Single("without_LeakTest_sees_the_polluters").Failed.Should().BeTrue(run.Console);

        var spans = File.ReadAllLines(timeline).Select(l => l.Split(' ')).Select(p => (Name: p[0], Start: long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), End: long.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var polluters = spans.Where(s => s.Name == "polluter").ToArray();
        var leakTests = spans.Where(s => s.Name.StartsWith("leaktest", StringComparison.Ordinal)).ToArray();
        polluters.Should().HaveCount(3);
        leakTests.Should().NotBeEmpty();
        polluters.Max(p => p.Start).Should().BeLessThan(polluters.Min(p => p.End), "the polluters ran in parallel with each other");
        leakTests.Min(t => t.Start).Should().BeGreaterThan(polluters.Max(p => p.End), "no leak test ran while a polluter did");
    }

    [Fact]
    public void Bad_attribute_arguments_fail_their_own_test_with_one_sentence()
    {
        var run = ChildTestRun.Run(Fixture, "Category=BadArguments");

        run.Single("A_valid_leak_test_still_runs").Passed.Should().BeTrue(run.Console);
        foreach (var (test, sentence) in new[]
        {
            ("Iterations_without_a_bound", "Iterations, Warmup and TimeBudgetSeconds make the test body the workload, which needs a bound: set MaxRetainedBytes or MaxRetainedBytesPerIteration, or remove them and call Leak.Profile in the body."),
            ("Zero_iterations", "iterations must be between 1 and 100,000,000, but was 0."),
            ("Negative_bound", "MaxRetainedBytes must be zero or more bytes, but was -1."),
            ("Returns_a_value", "a body that is the workload must return void, Task or ValueTask, but returns Int32."),
            ("Parameters_without_data", "the method takes 1 parameter(s) but has no data; add [InlineData], [MemberData] or [ClassData] for one leak test per row."),
            ("An_async_void_body", FrameworkAdapterTests.AsyncVoidBody),
            // Found when the body has run, so failed as a leak test fails: the runner names LeakAssert as the exception.
            ("A_body_that_never_profiles", FrameworkAdapterTests.NothingMeasured),
        })
        {
            var result = run.Single(test);
            result.Failed.Should().BeTrue(run.Console);
            var expected = $"[LeakTest] on BadArgumentTests.{test}: {sentence}";
            result.Message.Trim().Should().BeOneOf(expected, "LeakAssert : " + expected);
        }
    }

    [Fact]
    public void A_project_whose_only_tests_are_leak_tests_runs_them()
    {
        var run = ChildTestRun.Run(OnlyLeakTests, filter: null, ("LEAKASSERT_ARTIFACTS", NewArtifactFolder()));

        run.Results.Should().HaveCount(2, run.Console);
        run.Single("Garbage_is_not_retained").Passed.Should().BeTrue(run.Console);
        var kept = run.Single("What_the_body_keeps_is_caught");
        kept.Failed.Should().BeTrue(run.Console);
        kept.Message.Should().Contain("FAILED: expected at most 0 retained per iteration").And.Contain("still rising").And.Contain("Artifacts:");
        run.ExitCode.Should().NotBe(0);
    }
}
