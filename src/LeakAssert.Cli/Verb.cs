using System.CommandLine;
using System.Globalization;
using LeakAssert.Profiles;
using LeakAssert.Text;

namespace LeakAssert.CommandLine;

/// <summary>A command's parsed arguments: its operands in order and the options, defaults filled in.</summary>
internal sealed record Arguments(IReadOnlyList<string> Operands, SampleValue Value, int Rows, string? Output)
{
    internal const int DefaultRows = 10;

    /// <summary>pprof's labels: bytes as "1.50MB", counts as plain integers.</summary>
    internal Func<long, string> Format => Numbers.ValueFormat(Value.IsBytes());
}

/// <summary>
/// One subcommand of leakassert: its operands, the options it takes, its help, and what it does with parsed arguments.
/// <see cref="Build"/> makes the System.CommandLine command; the one-sentence usage errors are worded from it here.
/// </summary>
internal sealed record Verb(
    string Name,
    IReadOnlyList<string> Operands,
    string OperandsMeaning,
    bool TakesRows,
    bool TakesOutput,
    string Description,
    Func<Arguments, TextWriter, int> Run)
{
    /// <summary>pprof's names of the four values, in the order help lists them, inuse_space (the default) first.</summary>
    internal static readonly string[] ValueNames = [.. SampleValues.HelpOrder.Select(v => v.Name())];

    private static string ValueList => $"one of {string.Join(", ", ValueNames[..^1])} or {ValueNames[^1]}";

    private const string RowsRange = "a whole number from 1 to 2147483647";

    private const string OutputMeaning = "the path of the HTML file to write";

    /// <summary>"leakassert top [--value V] [--rows N] FILE".</summary>
    public string Synopsis =>
        string.Join(" ", new[] { "leakassert", Name, "[--value V]", TakesRows ? "[--rows N]" : null, TakesOutput ? "[-o OUT.html]" : null }
            .Concat(Operands).OfType<string>());

    /// <summary>"--value and --rows", for the message about an unknown option.</summary>
    public string OptionList =>
        (TakesRows, TakesOutput) switch
        {
            (true, true) => "--value, --rows and -o",
            (true, false) => "--value and --rows",
            (false, true) => "--value and -o",
            _ => "--value only",
        };

    /// <summary>The command, its options and operands; its action reads them into <see cref="Arguments"/> and runs.</summary>
    public Command Build()
    {
        var command = new Command(Name, Description);
        // Nullable, without a default value: help would print the enum's name (InuseSpace), not pprof's.
        var value = new Option<SampleValue?>("--value")
        {
            HelpName = "V",
            Description = "the value to show: inuse_space (the default: bytes still alive), inuse_objects, alloc_space (bytes allocated) or alloc_objects",
            CustomParser = r => SampleValues.Parse(r.Tokens[0].Value) ?? Error<SampleValue?>(r, $"--value must be {ValueList}, but was '{r.Tokens[0].Value}'.", null),
        };
        value.CompletionSources.Add(ValueNames);
        command.Options.Add(value);
        var rows = new Option<int>("--rows")
        {
            HelpName = "N",
            Description = $"how many functions {Name} shows",
            DefaultValueFactory = _ => Arguments.DefaultRows,
            CustomParser = r => int.TryParse(r.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                ? n
                : Error(r, $"--rows must be {RowsRange}, but was '{r.Tokens[0].Value}'.", 0),
        };
        if (TakesRows) command.Options.Add(rows);
        var output = new Option<string>("--output", "-o") { HelpName = "OUT.html", Description = "the file to write (default: standard output)" };
        if (TakesOutput) command.Options.Add(output);
        var operands = Operands.Select(o => new Argument<string>(o) { Description = OperandsMeaning }).ToList();
        foreach (var operand in operands) command.Arguments.Add(operand);
        command.SetAction(r => Run(
            new Arguments([.. operands.Select(o => r.GetValue(o)!)], r.GetValue(value) ?? SampleValue.InuseSpace, TakesRows ? r.GetValue(rows) : Arguments.DefaultRows, TakesOutput ? r.GetValue(output) : null),
            r.InvocationConfiguration.Output));
        return command;
    }

    private static T Error<T>(System.CommandLine.Parsing.ArgumentResult result, string message, T placeholder)
    {
        result.AddError(message);
        return placeholder;
    }

    /// <summary>
    /// The first thing wrong with a command line of this command, in LeakAssert's one sentence: an unknown option, an
    /// option without its value or with a bad one, operands missing or too many. Null when System.CommandLine's own
    /// message is the one to show.
    /// </summary>
    public string? UsageError(ParseResult result, string[] args)
    {
        var unmatched = result.UnmatchedTokens;
        // System.CommandLine takes a word it does not know as an operand, '-' first or not: one before "--" is an option.
        var operandTokens = result.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value);
        var unknownOption = operandTokens.Concat(unmatched).FirstOrDefault(t => t.Length > 1 && t[0] == '-' && !IsAfterDoubleDash(args, t));
        if (unknownOption is not null)
            return $"unknown option '{unknownOption.Split('=', 2)[0]}' for {Name}; {Name} takes {OptionList} (see leakassert help {Name}).";
        foreach (var option in result.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>())
        {
            if (option.Tokens.Count == 0 && !option.Implicit)
            {
                var name = option.IdentifierToken?.Value ?? option.Option.Name;
                var wanted = option.Option.Name switch { "--value" => ValueList, "--rows" => RowsRange, _ => OutputMeaning };
                return $"{name} needs a value: {wanted}.";
            }
            if (option.Errors.FirstOrDefault() is { } error) return error.Message;
            if (option.Option.Name == "--output" && option.Tokens[0].Value.Length == 0)
                return $"{option.IdentifierToken?.Value} needs a value: {OutputMeaning}, but it was empty.";
        }
        var given = result.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>().Count(a => a.Tokens.Count > 0);
        if (given < Operands.Count)
            return $"{Name} needs {string.Join(" and ", Operands.Skip(given))} ({OperandsMeaning}); usage: {Synopsis}.";
        if (unmatched.Count > 0)
            return $"{Name} takes {string.Join(" and ", Operands)} only, but was also given {string.Join(" ", unmatched.Select(o => $"'{o}'"))}; usage: {Synopsis}.";
        return null;
    }

    // After "--" every token is an operand, even one that starts with '-'.
    private static bool IsAfterDoubleDash(string[] args, string token)
    {
        var dashes = Array.IndexOf(args, "--");
        return dashes >= 0 && Array.IndexOf(args, token, dashes + 1) > dashes;
    }
}
