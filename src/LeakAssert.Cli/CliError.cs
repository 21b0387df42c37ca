namespace LeakAssert.CommandLine;

/// <summary>A failure the command reports in one sentence, without a stack trace, and the exit code it ends with.</summary>
internal sealed class CliError(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The command line is wrong: exit code 2.</summary>
    public static CliError Usage(string message) => new(message, Cli.UsageError);

    /// <summary>A file cannot be read or written: exit code 1.</summary>
    public static CliError Input(string message) => new(message, Cli.InputError);
}
