using LeakAssert.Artifacts;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>What a failing assertion inside a leak test leaves on disk, and the guards on names and paths.</summary>
[Collection(HeapCollection.Name)]
public sealed class ArtifactTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("leakassert-artifacts-").FullName;
    private readonly string? _previous = Environment.GetEnvironmentVariable(ArtifactWriter.RootVariable);

    public ArtifactTests() => Environment.SetEnvironmentVariable(ArtifactWriter.RootVariable, _root);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ArtifactWriter.RootVariable, _previous);
        StaticListLeak.Clear();
    }

    [Fact]
    public void A_failing_assertion_inside_a_leak_test_writes_reports_and_profiles_and_names_them()
    {
        var profile = Leak.Profile(new StaticListLeak().Remember, iterations: 2_000);
        var context = new LeakTestContext("CartTests", "Adding_items", null);

        string message;
        using (LeakTestContext.Enter(context))
            message = FluentActions.Invoking(() => profile.Should().NotRetainMoreThan(16.KB())).Should().Throw<XunitException>(profile.Report()).Which.Message;

        // The suffix is the first 8 hex digits of SHA-256("CartTests.Adding_items"): the same on every run and machine.
        var folder = Path.Combine(_root, "CartTests.Adding_items-6c663b3c");
        var expected = new[] { "report.txt", "report.html", "leaks.json", "before.pb.gz", "after.pb.gz", "diff.pb.gz" }
            .Select(kind => Path.Combine(folder, $"CartTests.Adding_items.{kind}")).ToArray();
        context.WrittenFiles.Should().BeEquivalentTo(expected);
        expected.Should().OnlyContain(f => File.Exists(f) && new FileInfo(f).Length > 0);
        message.Should().EndWith("Artifacts:\n" + string.Join('\n', expected.Select(f => "  " + f)));
        File.ReadAllText(expected[0]).Should().StartWith("FAILED: expected at most 16kB retained over 2,000 iterations");
        Pprof.PprofFiles.Read(expected[5]).Total(Profiles.SampleValue.InuseSpace).Should().BePositive("the diff file holds the leak's sampled growth\n{0}", profile.Report());
    }

    [Fact]
    public void Outside_a_leak_test_a_failing_assertion_writes_nothing()
    {
        var profile = Leak.Profile(new StaticListLeak().Remember, iterations: 500, new LeakOptions { Sampling = SamplingMode.Off });

        var message = FluentActions.Invoking(() => profile.Should().NotRetainMoreThan(16.KB())).Should().Throw<XunitException>(profile.Report()).Which.Message;

        message.Should().NotContain("Artifacts");
        Directory.EnumerateFileSystemEntries(_root).Should().BeEmpty();
    }

    [Fact]
    public void A_passing_assertion_writes_nothing()
    {
        var profile = Leak.Profile(() => Garbage.Churn(), iterations: 500);
        using (LeakTestContext.Enter(new LeakTestContext("CartTests", "Passing", null)))
            profile.Should().NotRetainMoreThan(1.MB());
        Directory.EnumerateFileSystemEntries(_root).Should().BeEmpty();
    }

    [Fact]
    public void A_name_too_long_for_the_file_system_gets_an_actionable_reason_instead_of_files()
    {
        var context = new LeakTestContext("CartTests", new string('m', 260), null);

        var act = () => ArtifactWriter.FolderFor(context);

        act.Should().Throw<PathTooLongException>().WithMessage("the artifact file name for CartTests.mmm* is * bytes, over the 255 a file system accepts; shorten the test's class or method name, or its data row's arguments.");
    }

    // The longest file is "{name}.before.pb.gz" (13 bytes of suffix): a name of 242 bytes is the longest that fits
    // in the 255 a file name may have. ASCII 'm' is one byte, 'é' two.
    [Theory]
    [InlineData(242, "m", true)]
    [InlineData(243, "m", false)]
    [InlineData(244, "m", false)]
    [InlineData(242, "é", true)]
    [InlineData(243, "é", false)]
    [InlineData(244, "é", false)]
    public void The_name_guard_checks_the_longest_artifact_file_name_to_the_byte(int nameBytes, string letter, bool fits)
    {
        var letterBytes = System.Text.Encoding.UTF8.GetByteCount(letter);
        var prefix = "C.";
        var method = new string('m', (nameBytes - prefix.Length) % letterBytes) + string.Concat(Enumerable.Repeat(letter, (nameBytes - prefix.Length) / letterBytes));
        var context = new LeakTestContext("C", method, null);
        System.Text.Encoding.UTF8.GetByteCount(context.TestName).Should().Be(nameBytes);
        var profile = Leak.Profile(new StaticListLeak().Remember, iterations: 500, new LeakOptions { Sampling = SamplingMode.Always, AttributionBudget = TimeSpan.Zero });
        StaticListLeak.Clear();

        var result = ArtifactWriter.WriteFailure(context, profile, Verdicts.Verdict.Total(profile, 0.Bytes()));

        if (fits)
        {
            result.Problem.Should().BeNull(profile.Report());
            result.Files.Should().HaveCount(5, "every file, the pprof ones included, is written\n{0}", profile.Report());
            result.Files.Should().OnlyContain(f => File.Exists(f.Path));
        }
        else
        {
            result.Files.Should().BeEmpty("no file is half-written when the longest would not fit");
            result.Problem.Should().Match($"the artifact file name for C.* is {nameBytes + 13} bytes, over the 255 a file system accepts; shorten *");
        }
    }

    [Fact]
    public void The_project_folder_recorded_in_the_test_assembly_wins_over_the_folders_above_the_binaries()
    {
        // As with UseArtifactsOutput: the binaries sit under artifacts/bin/{Project}/release, no project file above them.
        var repository = Directory.CreateTempSubdirectory("leakassert-layout-").FullName;
        var project = Directory.CreateDirectory(Path.Combine(repository, "tests", "Shop.Tests")).FullName;
        File.WriteAllText(Path.Combine(project, "Shop.Tests.csproj"), "<Project />");
        var binaries = Directory.CreateDirectory(Path.Combine(repository, "artifacts", "bin", "Shop.Tests", "release")).FullName;
        var recording = RecordingProjectDirectory(project);
        var elsewhere = RecordingProjectDirectory(Directory.CreateDirectory(Path.Combine(repository, "tests", "Other.Tests")).FullName);

        ArtifactWriter.ProjectDirectory([typeof(ArtifactTests).Assembly, recording], binaries).Should().Be(project);
        ArtifactWriter.ProjectDirectory([typeof(ArtifactTests).Assembly], binaries).Should().BeNull("nothing was recorded and no folder above the binaries holds a project file");
        ArtifactWriter.ProjectDirectory([recording, elsewhere], Path.Combine(project, "bin", "Release", "net10.0"))
            .Should().Be(project, "two recorded projects name neither, so the folders above the binaries decide");
    }

    private static System.Reflection.Assembly RecordingProjectDirectory(string directory)
    {
        var assembly = System.Reflection.Emit.AssemblyBuilder.DefineDynamicAssembly(
            new System.Reflection.AssemblyName("Recorded" + Guid.NewGuid().ToString("N")), System.Reflection.Emit.AssemblyBuilderAccess.Run);
        assembly.SetCustomAttribute(new System.Reflection.Emit.CustomAttributeBuilder(
            typeof(System.Reflection.AssemblyMetadataAttribute).GetConstructor([typeof(string), typeof(string)])!,
            [ArtifactWriter.ProjectDirectoryKey, directory]));
        return assembly;
    }

    [Fact]
    public void A_root_too_deep_names_the_variable_that_moves_it()
    {
        Environment.SetEnvironmentVariable(ArtifactWriter.RootVariable, Path.Combine(_root, string.Join('/', Enumerable.Repeat(new string('d', 200), 20))));

        var act = () => ArtifactWriter.FolderFor(new LeakTestContext("CartTests", "Adding_items", null));

        act.Should().Throw<PathTooLongException>().WithMessage($"*characters, over 4000; set {ArtifactWriter.RootVariable} to a shorter directory.");
    }

    [Theory]
    [InlineData("CartTests", "Adding", "a/b:c", "CartTests.Adding(a_b_c)")]
    [InlineData("CartTests", "Adding", null, "CartTests.Adding")]
    [InlineData("Outer+Inner", "Run", "\"x\"", "Outer+Inner.Run(_x_)")]
    [InlineData("CartTests", "Adding", "a?b*c<d>e|f\\g\th", "CartTests.Adding(a_b_c_d_e_f_g_h)")]
    [InlineData("CartTests", "Adding", "x.", "CartTests.Adding(x.)")]
    [InlineData("CON", "Run", null, "CON_.Run")]
    [InlineData("nul ", "Run", "1", "nul_ .Run(1)")]
    [InlineData("Com1", "Run", null, "Com1_.Run")]
    [InlineData("CONSOLE", "Run", null, "CONSOLE.Run")]
    public void Folder_names_keep_class_method_and_arguments_with_what_Windows_refuses_replaced(string type, string method, string? arguments, string expected)
    {
        var context = new LeakTestContext(type, method, arguments);

        var folder = Path.GetFileName(ArtifactWriter.FolderFor(context));

        folder.Should().MatchRegex($"^{System.Text.RegularExpressions.Regex.Escape(expected)}-[0-9a-f]{{8}}$");
        ArtifactWriter.Sanitize(context.TestName).Should().Be(expected, "the files in the folder are named after the test too");
    }

    [Theory]
    [InlineData("abc", "ABC")]
    [InlineData("abc", "Abc")]
    [InlineData("a/b", "a:b")]
    public void Data_rows_differing_only_in_case_or_in_replaced_characters_get_folders_apart_on_case_insensitive_file_systems(string one, string other)
    {
        string Folder(string arguments) => Path.GetFileName(ArtifactWriter.FolderFor(new LeakTestContext("CartTests", "Adding", arguments)));

        Folder(one).Should().NotBeEquivalentTo(Folder(other), "Windows and macOS would write both rows into one folder");
        Folder(one).Should().Be(Folder(one), "the same test always writes to the same folder");
        Folder(one).Should().StartWith(ArtifactWriter.Sanitize($"CartTests.Adding({one})"), "the folder stays readable");
    }
}
