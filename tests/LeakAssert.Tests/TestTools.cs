namespace LeakAssert.Tests;

/// <summary>
/// The real tools some tests drive: Go's pprof, a headless Chromium-family browser and npm's speedscope, which
/// .ci/install-test-tools installs on Debian, macOS (Homebrew) and Windows (winget). Outside CI a test whose tool is
/// missing is skipped with what to install; in CI it fails, so that a broken CI image shows.
/// </summary>
internal static class TestTools
{
    private static bool InCi => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>The go command.</summary>
    public static string Go() => Require("Go (for go tool pprof)", OnPath("go"),
        "Debian: apt-get install golang-go; macOS: brew install go; Windows: winget install GoLang.Go");

    /// <summary>Chromium, or Chrome or Edge where Chromium is absent.</summary>
    public static string Browser() => Require("a Chromium, Chrome or Edge browser", Browsers().FirstOrDefault(File.Exists),
        "Debian: apt-get install chromium; macOS: brew install --cask chromium; Windows: Edge is part of Windows");

    /// <summary>The speedscope package at <paramref name="version"/>, from the cache .ci/install-test-tools fills.</summary>
    public static string Speedscope(string version)
    {
        var tools = Environment.GetEnvironmentVariable("LEAKASSERT_TEST_TOOLS") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "leakassert-test-tools");
        var package = Path.Combine(tools, "speedscope-" + version, "node_modules", "speedscope");
        return Require($"speedscope {version} at {package}", File.Exists(Path.Combine(package, "dist", "release", "index.html")) ? package : null,
            "run .ci/install-test-tools (it installs it from npm)");
    }

    /// <summary>Where a browser may be, most wanted first, on every OS the tests run on.</summary>
    internal static IEnumerable<string> Browsers()
    {
        string[] names = OperatingSystem.IsWindows()
            ? ["chrome.exe", "msedge.exe", "chromium.exe"]
            : ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge"];
        IEnumerable<string> fixedPlaces = OperatingSystem.IsWindows()
            ? new[] { Environment.SpecialFolder.ProgramFiles, Environment.SpecialFolder.ProgramFilesX86, Environment.SpecialFolder.LocalApplicationData }
                .Select(Environment.GetFolderPath).Where(d => d.Length > 0)
                .SelectMany(d => new[] { Path.Combine(d, "Chromium", "Application", "chrome.exe"), Path.Combine(d, "Google", "Chrome", "Application", "chrome.exe"), Path.Combine(d, "Microsoft", "Edge", "Application", "msedge.exe") })
            : OperatingSystem.IsMacOS()
            ? ["/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"]
            : ["/usr/bin/chromium"];
        return fixedPlaces.Concat(PathDirectories().SelectMany(dir => names.Select(n => Path.Combine(dir, n))));
    }

    private static string? OnPath(string command) =>
        PathDirectories().Select(dir => Path.Combine(dir, OperatingSystem.IsWindows() ? command + ".exe" : command)).FirstOrDefault(File.Exists);

    private static IEnumerable<string> PathDirectories() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    // Never a silent pass: a missing tool is a skip with its reason outside CI and a failure inside it.
    private static string Require(string what, string? found, string install)
    {
        if (found is not null) return found;
        var sentence = $"{what} is needed and was not found ({install}).";
        if (InCi) throw new InvalidOperationException("On CI " + sentence);
        throw new SkipException(sentence);
    }
}
