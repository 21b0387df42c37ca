using System.Xml.Linq;
using Xunit.Abstractions;

namespace LeakAssert.Tests;

/// <summary>
/// The LeakAssert package with each assertion library its users have: FluentAssertions 6.12 and 7 (the range the
/// package declares, [6.12.0, 8.0.0)) and AwesomeAssertions, the Apache-licensed fork. A fresh test project per
/// library restores the packed LeakAssert from a local feed into its own package folder (nothing stale from the
/// machine's cache), then `profile.Should().NotRetainMoreThan(...)` passes on no leak and fails on a leak, and the
/// project's bin holds none of TraceEvent's Windows-only native DLLs.
/// </summary>
public sealed class AssertionLibraryTests(AssertionLibraryTests.PackedFeed feed, ITestOutputHelper output) : IClassFixture<AssertionLibraryTests.PackedFeed>
{
    [Theory]
    [InlineData("FluentAssertions", "6.12.0")]
    [InlineData("FluentAssertions", "7.2.2")]
    [InlineData("AwesomeAssertions", "9.6.0")]
    public void A_project_on_the_library_asserts_with_leakassert(string library, string version)
    {
        var project = Directory.CreateTempSubdirectory("leakassert-assertions-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(project, "Child.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <IsTestProject>true</IsTestProject>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
                    <PackageReference Include="xunit" Version="2.9.3" />
                    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
                    <PackageReference Include="LeakAssert" Version="{feed.Version}" />
                    <PackageReference Include="{library}" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "LeakTests.cs"), $$"""
                using {{library}};
                using LeakAssert;
                using Xunit;

                public class LeakTests
                {
                    private static readonly List<byte[]> Kept = [];

                    [Fact]
                    public void No_leak_passes() =>
                        Leak.Profile(() => GC.KeepAlive(new byte[256]), iterations: 1_000).Should().NotRetainMoreThan(1.MB());

                    [Fact]
                    public void A_leak_fails()
                    {
                        var profile = Leak.Profile(() => Kept.Add(new byte[4096]), iterations: 1_000);
                        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
                        act.Should().Throw<Exception>(profile.Report()).Which.Message.Should().StartWith("Expected profile to have at most 64B retained per iteration");
                    }

                    // The assembly version is the major only (6.0.0.0); the informational version is the package's.
                    [Fact]
                    public void The_library_is_the_one_referenced() =>
                        typeof({{library}}.AssertionExtensions).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Should().StartWith("{{version}}");
                }
                """);
            File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="leakassert" value="{feed.Directory}" />
                    <add key="machine" value="{feed.MachinePackages}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                  <!-- LeakAssert from the fresh pack only, never from a cache that may hold an older build of this version. -->
                  <packageSourceMapping>
                    <packageSource key="leakassert"><package pattern="LeakAssert*" /></packageSource>
                    <packageSource key="machine"><package pattern="*" /></packageSource>
                    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
                  </packageSourceMapping>
                </configuration>
                """);

            var (exit, console) = ChildTestRun.Dotnet(project, ["test", "-c", "Release", "--logger", "trx;LogFileName=results.trx", "--results-directory", project],
                TimeSpan.FromMinutes(10), ("NUGET_PACKAGES", Path.Combine(project, "packages")));
            output.WriteLine(console);

            exit.Should().Be(0, "all three tests pass on {0} {1}:\n{2}", library, version, console);
            var trx = XDocument.Load(Path.Combine(project, "results.trx"));
            trx.Descendants().Where(e => e.Name.LocalName == "UnitTestResult").Select(e => (string?)e.Attribute("outcome"))
                .Should().Equal(["Passed", "Passed", "Passed"], console);
            // TraceEvent's Windows-only native DLLs (msdia140, KernelTraceControl for amd64, arm64 and x86) stay out of
            // the consumer's bin: LeakAssert reads EventPipe traces and portable PDBs, which need none of them.
            var bin = Path.Combine(project, "bin", "Release", "net10.0");
            Directory.EnumerateFiles(bin, "*.dll", SearchOption.AllDirectories).Select(Path.GetFileName)
                .Should().Contain("Microsoft.Diagnostics.Tracing.TraceEvent.dll").And.NotContain(["msdia140.dll", "KernelTraceControl.dll"]);
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }

    /// <summary>LeakAssert and LeakAssert.Profiles packed once, from what the test run built (Release), into a folder feed.</summary>
    public sealed class PackedFeed : IDisposable
    {
        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("leakassert-feed-").FullName;

        // The machine's package folder as a second feed: the child restores its other packages from it without the
        // network when they are there, into a folder of its own.
        public string MachinePackages { get; } = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

        public string Version { get; } =
            XDocument.Load(Path.Combine(DemoProcessTests.RepositoryRoot(), "src", "Directory.Build.props")).Descendants("Version").Single().Value;

        public PackedFeed()
        {
            foreach (var id in new[] { "LeakAssert.Profiles", "LeakAssert" })
            {
                var (exit, console) = ChildTestRun.Dotnet(DemoProcessTests.RepositoryRoot(),
                    ["pack", Path.Combine("src", id, id + ".csproj"), "-c", "Release", "--no-build", "-o", Directory], TimeSpan.FromMinutes(5));
                exit.Should().Be(0, console);
            }
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
