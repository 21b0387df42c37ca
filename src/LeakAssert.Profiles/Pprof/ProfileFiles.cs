using LeakAssert.Profiles;

namespace LeakAssert.Pprof;

/// <summary>
/// LeakAssert's profiles as pprof files (gzipped profile.proto, <c>.pb.gz</c>) that <c>go tool pprof</c> opens:
/// <c>go tool pprof -top diff.pb.gz</c> shows what LeakAssert's report shows, and
/// <c>go tool pprof -top -base before.pb.gz after.pb.gz</c> computes the same diff from the other two.
/// </summary>
public static class PprofFiles
{
    // The suffixes of the three files; the artifact writer names its files with these too.
    internal const string BeforeSuffix = ".before.pb.gz", AfterSuffix = ".after.pb.gz", DiffSuffix = ".diff.pb.gz";

    /// <summary>
    /// Writes the before, after and diff profiles into <paramref name="directory"/> (created if missing) as
    /// <c>{baseName}.before.pb.gz</c>, <c>{baseName}.after.pb.gz</c> and <c>{baseName}.diff.pb.gz</c>, replacing
    /// files of those names. The diff holds after-minus-before values, negative ones included.
    /// </summary>
    /// <returns>The full paths of the three files.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="baseName"/> is empty or no file name on some OS (a character such as ':' or '/', or a device name
    /// such as CON); the same names are refused on every OS.
    /// </exception>
    public static (string Before, string After, string Diff) Write(ProfileSet profiles, string directory, string baseName)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (string.IsNullOrWhiteSpace(directory))
            throw new ArgumentException("The directory must be a path, but it is null or empty.", nameof(directory));
        if (string.IsNullOrWhiteSpace(baseName))
            throw new ArgumentException("The base name must name the files, but it is null or empty.", nameof(baseName));
        // One set of rules on every OS (Windows' own), so that a name that works here works on any machine; the
        // separators among them keep a base name from reaching into another directory.
        if (PortableFileName.Problem(baseName + DiffSuffix) is { } problem)
            throw new ArgumentException($"The base name must be a file name every OS accepts ({PortableFileName.Allowed}), but \"{baseName}\" {problem}.", nameof(baseName));

        var root = Directory.CreateDirectory(directory).FullName;
        var paths = (
            Before: Path.Combine(root, baseName + BeforeSuffix),
            After: Path.Combine(root, baseName + AfterSuffix),
            Diff: Path.Combine(root, baseName + DiffSuffix));
        File.WriteAllBytes(paths.Before, PprofWriter.ToBytes(profiles.Before));
        File.WriteAllBytes(paths.After, PprofWriter.ToBytes(profiles.After));
        File.WriteAllBytes(paths.Diff, PprofWriter.ToBytes(profiles.Diff));
        return paths;
    }

    /// <summary>
    /// Reads a pprof heap profile: one LeakAssert wrote comes back with every field (the variance rounded to a whole
    /// byte², as pprof's values are integers); another with the four heap
    /// sample types (alloc_objects, alloc_space, inuse_objects, inuse_space) reads with what it has. Uncompressed
    /// profile.proto is accepted too, as pprof accepts it. A file of more than 256 MiB, or one whose gzip data
    /// decompresses to more, is refused as soon as that is known, so that a gzip bomb costs no more than that.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">Nothing is at <paramref name="path"/> (the file or a directory on the way is missing).</exception>
    /// <exception cref="InvalidDataException">
    /// <paramref name="path"/> is a directory, or the file is not gzip, is truncated, is too large or holds no such profile;
    /// the message says which, in one sentence.
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read; the message is the system's.</exception>
    public static HeapProfile Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("The path must name a .pb.gz file, but it is null or empty.", nameof(path));
        return PprofReader.Read(path);
    }
}
