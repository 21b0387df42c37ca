using System.Globalization;
using LeakAssert.Profiles;
using LeakAssert.Text;

namespace LeakAssert.CommandLine;

/// <summary>A command's parsed arguments: its operands in order and the options, defaults filled in.</summary>
internal sealed record Arguments(IReadOnlyList<string> Operands, SampleValue Value, int Rows, string? Output, bool Help)
{
    internal const int DefaultRows = 10;

    /// <summary>pprof's names of the four values, in the order <c>--help</c> lists them, inuse_space (the default) first.</summary>
    internal static readonly string[] ValueNames = [.. SampleValues.HelpOrder.Select(v => v.Name())];

    /// <summary>
    /// Parses what follows the command name. Options may come before, between or after the operands, as
    /// <c>--value X</c> or <c>--value=X</c>; <c>--</c> ends the options (for a REGEX that starts with '-').
    /// </summary>
    /// <exception cref="CliError">An unknown option, a bad value or the wrong number of operands, in one sentence.</exception>
    public static Arguments Parse(Command command, IReadOnlyList<string> args)
    {
        var operands = new List<string>();
        var value = SampleValue.InuseSpace;
        var rows = DefaultRows;
        string? output = null;
        var help = false;
        var optionsEnded = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (optionsEnded || arg.Length < 2 || arg[0] != '-')
            {
                operands.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                optionsEnded = true;
                continue;
            }
            var equals = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=') : -1;
            var name = equals < 0 ? arg : arg[..equals];
            string Take(string what)
            {
                if (equals >= 0) return arg[(equals + 1)..];
                if (i + 1 < args.Count) return args[++i];
                throw CliError.Usage($"{name} needs a value: {what}.");
            }
            switch (name)
            {
                case "-h" or "--help" when equals < 0:
                    help = true;
                    break;
                case "--value":
                    value = ParseValue(Take(ValueList));
                    break;
                case "--rows" when command.TakesRows:
                    rows = ParseRows(Take(RowsRange));
                    break;
                case "-o" or "--output" when command.TakesOutput:
                    output = Take("the path of the HTML file to write");
                    if (output.Length == 0) throw CliError.Usage($"{name} needs a value: the path of the HTML file to write, but it was empty.");
                    break;
                case "-h" or "--help":
                    throw CliError.Usage($"{name} takes no value, but was given '{arg[(equals + 1)..]}'.");
                default:
                    throw CliError.Usage($"unknown option '{name}' for {command.Name}; {command.Name} takes {command.OptionList} (see leakassert help {command.Name}).");
            }
        }
        if (!help) CheckOperands(command, operands);
        return new Arguments(operands, value, rows, output, help);
    }

    private static string ValueList => $"one of {string.Join(", ", ValueNames[..^1])} or {ValueNames[^1]}";

    private const string RowsRange = "a whole number from 1 to 2147483647";

    internal static SampleValue ParseValue(string text) =>
        SampleValues.Parse(text) ?? throw CliError.Usage($"--value must be {ValueList}, but was '{text}'.");

    /// <summary>pprof's labels: bytes as "1.50MB", counts as plain integers.</summary>
    internal static Func<long, string> FormatterOf(SampleValue value) => Numbers.ValueFormat(value.IsBytes());

    private static int ParseRows(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var rows) && rows >= 1
            ? rows
            : throw CliError.Usage($"--rows must be {RowsRange}, but was '{text}'.");

    private static void CheckOperands(Command command, List<string> operands)
    {
        var wanted = command.Operands;
        if (operands.Count < wanted.Count)
        {
            var missing = wanted.Skip(operands.Count).ToList();
            throw CliError.Usage($"{command.Name} needs {string.Join(" and ", missing)} ({command.OperandsMeaning}); usage: {command.Synopsis}.");
        }
        if (operands.Count > wanted.Count)
        {
            var extra = string.Join(" ", operands.Skip(wanted.Count).Select(o => $"'{o}'"));
            throw CliError.Usage($"{command.Name} takes {string.Join(" and ", wanted)} only, but was also given {extra}; usage: {command.Synopsis}.");
        }
    }
}
