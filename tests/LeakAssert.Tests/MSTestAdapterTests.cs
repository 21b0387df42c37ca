namespace LeakAssert.Tests;

/// <summary>
/// [LeakTestMethod] on MSTest (LeakAssert.MSTest), proved in a child <c>dotnet test</c> of two projects as
/// <c>dotnet new mstest</c> makes them (method-level parallelism): the template's MSTest 4.0.2 and MSTest 4.5.2. Both
/// compile tests/Fixtures/MSTest; the results are read from the TRX.
/// </summary>
public sealed class MSTestAdapterTests
{
    public static readonly TheoryData<string> Fixtures = new() { "tests/Fixtures/LeakAssert.MSTest.Template", "tests/Fixtures/LeakAssert.MSTest.Fixture" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void A_leak_fails_with_the_report_and_its_artifacts_attached_and_a_clean_leak_test_passes(string fixture)
    {
        var artifacts = Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName;
        var run = ChildTestRun.Run(fixture, "TestCategory=Report", ("LEAKASSERT_ARTIFACTS", artifacts));

        run.ExitCode.Should().NotBe(0);
        run.Results.Should().HaveCount(2, run.Console);
        run.Single("Garbage_is_not_retained").Passed.Should().BeTrue(run.Console);
        var kept = run.Single("What_the_body_keeps_is_caught");
        kept.Failed.Should().BeTrue(run.Console);
        kept.Message.Should().StartWith("FAILED: expected at most 0 retained per iteration").And.Contain("still rising")
            .And.Contain("Leak 1 [").And.Contain("static field Fixtures.LeakTests.Kept").And.Contain("(LeakTests.cs:20)");
        var listed = kept.Message.Split('\n').SkipWhile(l => l.Trim() != "Artifacts:").Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        listed.Should().HaveCount(6, kept.Message).And.OnlyContain(f => f.StartsWith(Path.Combine(artifacts, "LeakTests.What_the_body_keeps_is_caught-"), StringComparison.Ordinal) && File.Exists(f));
        // The result's files, as the TRX lists them (copied beside it, under their own names).
        kept.Attachments.Select(Path.GetFileName).Should().BeEquivalentTo(listed.Select(Path.GetFileName), run.Console);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Both_forms_data_rows_the_timeout_and_bad_arguments(string fixture)
    {
        var run = ChildTestRun.Run(fixture, "TestCategory=Forms", ("LEAKASSERT_ARTIFACTS", Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName));

        var plain = run.Single("A_static_list_leaks");
        plain.Failed.Should().BeTrue(run.Console);
        plain.Message.Should().Contain("Expected profile to have at most 64B retained per iteration").And.Contain("still rising").And.Contain("Artifacts:");
        plain.Attachments.Should().HaveCount(6, run.Console);
        run.Single("Garbage_does_not_leak_async").Passed.Should().BeTrue(run.Console);
        run.Results.Where(r => r.Name.StartsWith("Garbage_of_any_size_does_not_leak (", StringComparison.Ordinal))
            .Should().HaveCount(2).And.OnlyContain(r => r.Passed, run.Console);
        run.Single("A_body_that_never_profiles").Message.Trim().Should().Be($"[LeakTestMethod] on LeakTests.A_body_that_never_profiles: {FrameworkAdapterTests.NothingMeasured}");
        run.Single("Zero_iterations").Message.Trim().Should().Be("[LeakTestMethod] on LeakTests.Zero_iterations: iterations must be between 1 and 100,000,000, but was 0.");
        var timedOut = run.Single("A_timeout_stops_the_measurement");
        timedOut.Failed.Should().BeTrue(run.Console);
        // MSTest's 1 s timeout starts before the measurement does, so the measurement has run a little less.
        timedOut.Message.Should().MatchRegex(@"^Leak\.Profile was cancelled after (0\.[5-9]|1\.[0-5]) s: ", run.Console);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void A_leak_test_that_MSTest_may_run_beside_parallel_tests_fails_saying_what_to_add(string fixture)
    {
        var run = ChildTestRun.Run(fixture, "TestCategory=Isolation");

        run.Single("Beside_parallel_tests").Message.Trim().Should().Be(
            "[LeakTestMethod] on ParallelLeakTests.Beside_parallel_tests: the assembly runs tests in parallel ([Parallelize]), so other tests' allocations would be measured as this test's; add [DoNotParallelize] to the method or its class, or set [assembly: Parallelize(Workers = 1)].");
        run.Single("Marked_DoNotParallelize_runs").Passed.Should().BeTrue(run.Console);
        run.Single("An_ordinary_parallel_test").Passed.Should().BeTrue(run.Console);
    }
}
