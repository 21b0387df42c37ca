namespace LeakAssert.CommandLine;

/// <summary>One subcommand: its operands, the options it takes, its help, and what it does with parsed arguments.</summary>
internal sealed record Command(
    string Name,
    IReadOnlyList<string> Operands,
    string OperandsMeaning,
    bool TakesRows,
    bool TakesOutput,
    string Summary,
    string Description,
    Func<Arguments, TextWriter, int> Run)
{
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
}
