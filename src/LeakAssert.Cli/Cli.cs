using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using LeakAssert.Pprof;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

namespace LeakAssert.CommandLine;

/// <summary>
/// The leakassert command: pprof's top, traces, <c>-base</c> diff and list, and an HTML page, over LeakAssert's
/// .pb.gz profiles, for users without Go. Everything goes through <see cref="Run"/>, which tests call in-process.
/// </summary>
internal static class Cli
{
    internal const int Ok = 0;
    /// <summary>A file could not be read (missing, not a profile, corrupt) or written.</summary>
    internal const int InputError = 1;
    /// <summary>The command line is wrong.</summary>
    internal const int UsageError = 2;

    internal static readonly IReadOnlyList<Verb> Verbs =
    [
        new("top", ["FILE"], "the .pb.gz profile to read", TakesRows: true, TakesOutput: false,
            "Shows the functions of FILE by their own (flat) value, largest first, with their value including callees (cum) and the samples behind it, as go tool pprof -top does.",
            RunTop),
        new("traces", ["FILE"], "the .pb.gz profile to read", TakesRows: false, TakesOutput: false,
            "Shows every stack of FILE with its allocated type, its samples and its value beside the leaf frame, largest first, as go tool pprof -traces does.",
            RunTraces),
        new("diff", ["BASE", "PROFILE"], "BASE and PROFILE are .pb.gz profiles; it shows PROFILE minus BASE", TakesRows: true, TakesOutput: false,
            "Subtracts BASE from PROFILE by stack and type and shows the top of the difference, as go tool pprof -top -base BASE PROFILE does: what PROFILE holds that BASE did not (negative values were freed since BASE). Sample counts add up both files' samples.",
            RunDiff),
        new("list", ["REGEX", "FILE"], "a regular expression for function names, then the .pb.gz profile to read", TakesRows: false, TakesOutput: false,
            "Shows the source lines of every function of FILE whose name REGEX matches (a .NET regular expression), each with its value, as go tool pprof -list does. Put -- before a REGEX that starts with '-'.",
            RunList),
        new("html", ["FILE"], "the .pb.gz profile to read", TakesRows: false, TakesOutput: true,
            "Writes one self-contained HTML page of FILE, a flame graph and the top table of the value, to OUT.html, or to standard output without -o.",
            RunHtml),
    ];

    private static string CommandNames => string.Join(", ", Verbs.Select(c => c.Name)) + " or help";

    private const string Description =
        "leakassert reads LeakAssert's pprof heap profiles (.pb.gz) without Go. Exit status: 0 done, 1 a file could not be read or written, 2 a usage error.";

    /// <summary>The command tree: System.CommandLine gives --help, --version, response files (@FILE) and completions.</summary>
    private static readonly RootCommand Root = BuildRoot();

    private static RootCommand BuildRoot()
    {
        var root = new RootCommand(Description) { HelpName = "leakassert" };
        foreach (var verb in Verbs) root.Subcommands.Add(verb.Build());
        var help = new Command("help", "Shows the help of COMMAND, or of leakassert.");
        var topic = new Argument<string?>("COMMAND") { Arity = ArgumentArity.ZeroOrOne, Description = "the command to explain" };
        topic.CompletionSources.Add([.. Verbs.Select(v => v.Name)]);
        help.Arguments.Add(topic);
        help.SetAction(r => Help(r.GetValue(topic), r.InvocationConfiguration.Output));
        root.Subcommands.Add(help);
        // The version of this tool, not of the process that hosts it (a test host runs Cli.Run too).
        foreach (var version in root.Options.OfType<VersionOption>()) version.Action = new PrintVersion();
        return root;
    }

    /// <summary>Runs one command line; returns the exit code. Errors are one sentence on <paramref name="stderr"/>, never a stack trace.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var exitCode = Dispatch(args, stdout, stderr);
            // Inside the try: a full disk is a failure to write like any other.
            stdout.Flush();
            return exitCode;
        }
        catch (CliError e)
        {
            return Fail(stderr, e.Message, e.ExitCode);
        }
        catch (InvalidDataException e)
        {
            // PprofReader's one sentence: what is wrong with the file and what was expected.
            return Fail(stderr, e.Message, InputError);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // PprofFiles.Read's FileNotFoundException is one sentence too; other I/O errors speak in the system's words.
            return Fail(stderr, e.Message, InputError);
        }
    }

    private static int Dispatch(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            // Nothing to do is a usage error, as for go: the usage goes where errors go.
            stderr.Write(Usage());
            return UsageError;
        }
        CheckCommand(args[0]);
        var result = Root.Parse(args);
        // --help (anywhere) and --version act whatever else the line holds; every other error is a usage error.
        if (result.Action is not (HelpAction or PrintVersion))
        {
            var verb = Verbs.FirstOrDefault(v => v.Name == result.CommandResult.Command.Name);
            if ((verb?.UsageError(result, args) ?? result.Errors.FirstOrDefault()?.Message) is { } error) throw CliError.Usage(error);
        }
        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    // Options come after the command: a first word that is neither a command nor one of leakassert's own options
    // gets a sentence that names the commands (System.CommandLine's would only say it was not matched).
    private static void CheckCommand(string first)
    {
        if (first.StartsWith('@') || first.StartsWith('[') || first == "help" || Verbs.Any(v => v.Name == first)) return;
        if (Root.Options.Any(o => o.Name == first || o.Aliases.Contains(first))) return;
        if (first.StartsWith('-'))
            throw CliError.Usage($"'{first}' is not a command; options come after the command, as in leakassert top --value inuse_space FILE (commands: {CommandNames}).");
        throw CliError.Usage($"unknown command '{first}'; expected {CommandNames} (see leakassert --help).");
    }

    private static int Help(string? topic, TextWriter stdout)
    {
        if (topic is null)
        {
            stdout.Write(Usage());
            return Ok;
        }
        var verb = Verbs.FirstOrDefault(c => c.Name == topic)
            ?? throw CliError.Usage($"there is no command '{topic}' to help with; expected {string.Join(", ", Verbs.SkipLast(1).Select(c => c.Name))} or {Verbs[^1].Name}.");
        stdout.Write(HelpOf(verb.Name));
        return Ok;
    }

    /// <summary>The help of leakassert, as <c>leakassert --help</c> prints it.</summary>
    internal static string Usage() => HelpOf();

    /// <summary>System.CommandLine's help of a command (or of leakassert).</summary>
    internal static string HelpOf(params string[] command)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Root.Parse([.. command, "--help"]).Invoke(new InvocationConfiguration { Output = w, Error = w });
        return w.ToString();
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine("leakassert " + Version());
            return Ok;
        }
    }

    private static int RunTop(Arguments a, TextWriter w)
    {
        var file = a.Operands[0];
        var profile = Load(file);
        WriteHeader(w, profile, a.Value, ("File", file));
        Top.Of(profile, a.Value, a.Rows).Write(w, a.Format);
        return Ok;
    }

    private static int RunTraces(Arguments a, TextWriter w)
    {
        var file = a.Operands[0];
        var profile = Load(file);
        WriteHeader(w, profile, a.Value, ("File", file));
        Traces.Of(profile, a.Value).Write(w, a.Format);
        return Ok;
    }

    private static int RunDiff(Arguments a, TextWriter w)
    {
        var (baseFile, file) = (a.Operands[0], a.Operands[1]);
        var @base = Load(baseFile);
        var profile = Load(file);
        var diff = ProfileDiff.Subtract(profile, @base);
        WriteHeader(w, diff, a.Value, ("File", file), ("Base", baseFile));
        Top.Of(diff, a.Value, a.Rows).Write(w, a.Format);
        return Ok;
    }

    private static int RunList(Arguments a, TextWriter w)
    {
        var (pattern, file) = (a.Operands[0], a.Operands[1]);
        CheckRegex(pattern);
        var profile = Load(file);
        WriteHeader(w, profile, a.Value, ("File", file));
        // No match is an answer, not an error: pprof's "no matches found for regexp: ..." line, exit code 0.
        SourceList.Of(profile, a.Value, pattern).Write(w, a.Format);
        return Ok;
    }

    private static int RunHtml(Arguments a, TextWriter w)
    {
        var file = a.Operands[0];
        if (a.Output is { } output) CheckWritable(output);
        var profile = Load(file);
        var title = Path.GetFileName(file);
        if (a.Output is null)
        {
            ProfilePage.Write(w, profile, a.Value, title);
            return Ok;
        }
        using (var page = new StreamWriter(a.Output, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" })
            ProfilePage.Write(page, profile, a.Value, title);
        w.WriteLine($"Wrote {a.Output}");
        return Ok;
    }

    /// <summary>
    /// Reads a profile. PprofFiles.Read names a missing path (FileNotFoundException), a directory or a bad file
    /// (InvalidDataException) in one sentence; a blank path, which it refuses as an argument, is a usage error here.
    /// </summary>
    private static HeapProfile Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw CliError.Usage("a FILE argument is empty; expected the path of a .pb.gz profile.");
        return PprofFiles.Read(path);
    }

    private static void CheckRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
        }
        catch (RegexParseException e)
        {
            throw CliError.Usage(string.Create(CultureInfo.InvariantCulture,
                $"REGEX '{pattern}' is not a valid .NET regular expression ({e.Error} at offset {e.Offset}); list takes one that matches function names, such as 'Cache\\.Add'."));
        }
    }

    private static void CheckWritable(string output)
    {
        if (Directory.Exists(output)) throw CliError.Input($"{output} is a directory; -o needs the path of the HTML file to write.");
        var directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null && !Directory.Exists(directory))
            throw CliError.Input($"cannot write {output}: the directory {directory} does not exist.");
    }

    /// <summary>pprof's report header: the file, the value shown and when the profile was taken.</summary>
    private static void WriteHeader(TextWriter w, HeapProfile profile, SampleValue value, params (string Label, string Text)[] files)
    {
        foreach (var (label, text) in files) w.WriteLine($"{label}: {text}");
        w.WriteLine($"Type: {value.Name()}");
        // A profile without a time (pprof writes 0) reads as the Unix epoch: say nothing rather than 1970.
        if (profile.CapturedAt != DateTimeOffset.UnixEpoch)
            w.WriteLine("Time: " + profile.CapturedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
    }

    private static int Fail(TextWriter stderr, string message, int exitCode)
    {
        // One line whatever the message: an OS error text may carry a line break.
        var line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        stderr.WriteLine("leakassert: " + line);
        return exitCode;
    }

    private static string Version()
    {
        var version = typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = version.IndexOf('+');
        return plus < 0 ? version : version[..plus];
    }
}
