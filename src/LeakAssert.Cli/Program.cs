using System.Globalization;
using System.Text;

namespace LeakAssert.CommandLine;

internal static class Program
{
    private static int Main(string[] args)
    {
        // Output is the same on every machine: invariant numbers, UTF-8 without a BOM, "\n" line ends.
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        using var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8) { NewLine = "\n" };
        using var stderr = new StreamWriter(Console.OpenStandardError(), utf8) { NewLine = "\n", AutoFlush = true };
        return Cli.Run(args, stdout, stderr);
    }
}
