using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace LeakAssert.Tests;

/// <summary>
/// The packages a team adds in one line are publishable: `dotnet pack` of the solution gives every package with its
/// licence, authors, description, tags, project and repository URL, a readme and a symbols package, all at the one
/// version, and warns about nothing (warnings are errors here, so a warning fails the pack).
/// </summary>
public sealed class PackageTests
{
    private static readonly string[] Packages = ["LeakAssert.Profiles", "LeakAssert", "LeakAssert.Xunit", "LeakAssert.XunitV3", "LeakAssert.NUnit", "LeakAssert.MSTest", "LeakAssert.Cli"];

    [Fact]
    public void Every_package_is_complete_and_packs_without_a_warning()
    {
        var root = DemoProcessTests.RepositoryRoot();
        var output = Directory.CreateTempSubdirectory("leakassert-pack-").FullName;
        try
        {
            foreach (var id in Packages)
            {
                var (exitCode, console) = Pack(Path.Combine(root, "src", id, id + ".csproj"), output);
                exitCode.Should().Be(0, console);
                console.Should().NotContain("warning", "dotnet pack warns about nothing");
            }

            var version = XDocument.Load(Path.Combine(root, "src", "Directory.Build.props")).Descendants("Version").Single().Value;
            foreach (var id in Packages)
            {
                var package = Path.Combine(output, $"{id}.{version}.nupkg");
                File.Exists(package).Should().BeTrue("{0} is packed at the one version {1}", id, version);
                File.Exists(Path.ChangeExtension(package, ".snupkg")).Should().BeTrue("{0} has a symbols package", id);
                using var zip = ZipFile.OpenRead(package);
                var nuspec = XDocument.Load(zip.GetEntry($"{id}.nuspec")!.Open());
                string Field(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
                Field("license").Should().Be("MIT", id);
                Field("authors").Should().NotBeNullOrWhiteSpace().And.NotBe(id, "authors name people, not the package");
                Field("description").Length.Should().BeGreaterThan(40, id);
                Field("tags").Should().Contain("memory-leak", id);
                Field("projectUrl").Should().StartWith("https://", id);
                nuspec.Descendants().Single(e => e.Name.LocalName == "repository").Attribute("url")!.Value.Should().StartWith("https://", id);
                Field("readme").Should().Be("README.md", id);
                zip.GetEntry("README.md").Should().NotBeNull("{0} carries its readme", id);
                zip.GetEntry("LICENSE").Should().NotBeNull("{0} carries the licence text", id);
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    // Packs what the test run already built (Release): rebuilding here would rewrite the assemblies this test host runs.
    private static (int ExitCode, string Console) Pack(string project, string output)
    {
        var start = new ProcessStartInfo("dotnet", ["pack", project, "-c", "Release", "--no-build", "-o", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "dotnet pack did not finish within 5 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
