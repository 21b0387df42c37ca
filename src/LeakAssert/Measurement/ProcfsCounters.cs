using Microsoft.Win32.SafeHandles;

namespace LeakAssert.Measurement;

/// <summary>
/// Linux's figures from /proc: a small file read into a stack buffer, a directory counted. A reading leaves only
/// short-lived garbage behind, so taken right after a checkpoint's forced GC it adds nothing to the next checkpoint.
/// </summary>
internal sealed class ProcfsCounters : CounterSource
{
    public override string Platform => "Linux";

    /// <remarks>
    /// The resident anonymous pages, RssAnon of /proc/self/status. Not /proc/self/smaps_rollup: the kernel walks every
    /// mapping to sum it, 4 ms a reading in a small process and 30-80 ms beside a 100 MB-1.5 GB heap, at every
    /// checkpoint; RssAnon is a counter the kernel keeps, read in 0.1 ms, and moved with 64 MB of written native
    /// buffers as the private pages did (within 2 MB).
    /// </remarks>
    public override long? PrivateBytes()
    {
        Span<byte> buffer = stackalloc byte[4096];
        return Field(Read("/proc/self/status", buffer), "RssAnon:"u8) * 1024;
    }

    public override int OsThreads()
    {
        Span<byte> buffer = stackalloc byte[4096];
        return (int)Field(Read("/proc/self/status", buffer), "Threads:"u8);
    }

    /// <summary>File descriptors (the enumeration's own included, the same at every reading).</summary>
    public override int? Handles() => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();

    /// <summary>.NET gives an OS thread its Thread.Name, cut to 15 characters; a thread without one keeps its creator's.</summary>
    public override IReadOnlyList<string>? ThreadNames()
    {
        var names = new List<string>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the reading: it is not there any more.
            }
        }
        return names;
    }

    // A small /proc file, whole, into the buffer; procfs generates it at open, so one read from offset 0 sees it all.
    private static ReadOnlySpan<byte> Read(string path, Span<byte> buffer)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        var length = 0;
        while (length < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[length..], length);
            if (read == 0) break;
            length += read;
        }
        return buffer[..length];
    }

    // The number after "Name:" at the start of a line ("Threads:\t12", "Private_Dirty:   1234 kB"); 0 when absent.
    private static long Field(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name)
    {
        var at = 0;
        while (at < text.Length)
        {
            var line = text[at..];
            var end = line.IndexOf((byte)'\n');
            if (end >= 0) line = line[..end];
            if (line.StartsWith(name))
            {
                var digits = line[name.Length..].TrimStart(" \t"u8);
                long value = 0;
                foreach (var b in digits)
                {
                    if (b is < (byte)'0' or > (byte)'9') break;
                    value = value * 10 + (b - '0');
                }
                return value;
            }
            if (end < 0) break;
            at += end + 1;
        }
        return 0;
    }
}
