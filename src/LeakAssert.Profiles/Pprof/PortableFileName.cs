namespace LeakAssert.Pprof;

/// <summary>
/// The file names every OS LeakAssert runs on accepts, Windows' rules being the strictest: no control character,
/// none of <c>/ \ : * ? " &lt; &gt; |</c>, no trailing dot or space, and no device name (CON, PRN, AUX, NUL, COM0-9,
/// LPT0-9) before the first dot. The same set on every OS, so that a name that works on Linux works on Windows too
/// (<see cref="Path.GetInvalidFileNameChars"/> is only '\0' and '/' on Linux).
/// </summary>
internal static class PortableFileName
{
    /// <summary>What a portable name may hold, as the end of a sentence.</summary>
    public const string Allowed = "no control characters, none of / \\ : * ? \" < > |, no trailing dot or space, and no device name such as CON, NUL, COM1 or LPT1 before the first dot";

    private static readonly char[] Reserved = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

    // Superscript digits count as digits to Windows here: COM¹ is a device as COM1 is.
    private static readonly HashSet<string> Devices = new(
        ["CON", "PRN", "AUX", "NUL", .. Numbered("COM"), .. Numbered("LPT")], StringComparer.OrdinalIgnoreCase);

    private static IEnumerable<string> Numbered(string prefix) => "0123456789¹²³".Select(d => prefix + d);

    /// <summary>Why <paramref name="name"/> is not portable, as "contains the character ':'" or the like; null when it is.</summary>
    public static string? Problem(string name)
    {
        foreach (var c in name)
            if (IsInvalid(c)) return $"contains the character {Describe(c)}";
        if (name.EndsWith('.') || name.EndsWith(' ')) return $"ends with {(name.EndsWith('.') ? "a dot" : "a space")}";
        return Device(name) is { } device ? $"names the device {device} on Windows" : null;
    }

    /// <summary>
    /// <paramref name="name"/> made portable and still readable: each invalid character becomes '_', trailing dots and
    /// spaces go, and a device name gets '_' after it (CON.Run becomes CON_.Run).
    /// </summary>
    public static string Replace(string name)
    {
        var replaced = new string([.. name.Select(c => IsInvalid(c) ? '_' : c)]).TrimEnd('.', ' ');
        if (replaced.Length == 0) return "_";
        return Device(replaced) is { } device ? device + "_" + replaced[device.Length..] : replaced;
    }

    private static bool IsInvalid(char c) => char.IsControl(c) || Array.IndexOf(Reserved, c) >= 0;

    // Windows takes "NUL.txt" and "NUL .txt" for NUL: what comes before the first dot, trailing spaces aside, decides.
    private static string? Device(string name)
    {
        var dot = name.IndexOf('.');
        var stem = (dot < 0 ? name : name[..dot]).TrimEnd(' ');
        return Devices.Contains(stem) ? name[..stem.Length] : null;
    }

    private static string Describe(char c) => char.IsControl(c) ? $"U+{(int)c:X4}" : $"'{c}'";
}
