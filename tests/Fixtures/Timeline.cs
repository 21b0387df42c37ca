using System.Diagnostics;
using System.Globalization;

namespace Fixtures;

/// <summary>
/// When each test of a fixture ran, appended to the file named by LEAKASSERT_TIMELINE: "name start end" in
/// Stopwatch ticks, so the test that runs the fixture can check which tests overlapped.
/// </summary>
public static class Timeline
{
    private static readonly Lock Gate = new();

    public static long Now => Stopwatch.GetTimestamp();

    public static void Record(string name, long start, long end)
    {
        if (Environment.GetEnvironmentVariable("LEAKASSERT_TIMELINE") is not { Length: > 0 } path) return;
        lock (Gate) File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture, $"{name} {start} {end}\n"));
    }

    /// <summary>Retains 256 kB every 20 ms for <paramref name="duration"/>, then lets it all go: heap growth another test would see.</summary>
    public static void Pollute(string name, TimeSpan duration)
    {
        var start = Now;
        var retained = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            retained.Add(new byte[256 * 1024]);
            Thread.Sleep(20);
        }
        GC.KeepAlive(retained);
        Record(name, start, Now);
    }
}
