using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Google.Protobuf;
using LeakAssert.Profiles;
using Proto = LeakAssert.Pprof.Proto;

namespace LeakAssert.Pprof;

/// <summary>
/// Reads a pprof heap profile (gzipped profile.proto, or the plain message as pprof also accepts) back into a
/// <see cref="HeapProfile"/>. What <see cref="PprofWriter"/> wrote comes back field for field (the variance to the
/// whole byte² it was written with); a profile from elsewhere with the four heap sample types (Go's heap profiles
/// have them) reads too, with an empty type, no sample counts and the name "profile" where its sample types, labels
/// and comment do not say.
/// </summary>
/// <remarks>Bad input throws <see cref="InvalidDataException"/> with one sentence: what is wrong, what was expected.</remarks>
internal static class PprofReader
{
    /// <summary>Name of a profile whose comment has no "leakassert:NAME".</summary>
    internal const string UnnamedProfile = "profile";

    /// <summary>
    /// The most bytes read as one profile: the file, and what its gzip data decompresses to. It is generous for a heap
    /// profile of sampled allocations, and keeps a gzip bomb (1 GiB of zeros fits in 1 MB) from costing more.
    /// </summary>
    internal const long MaxProfileBytes = 256L << 20;

    private const string Expected = "expected a gzipped pprof profile (.pb.gz)";

    // "256MB", as pprof prints sizes: a whole number of MB needs no formatter from outside this folder.
    private static string TooLarge(string source, string what) =>
        string.Create(CultureInfo.InvariantCulture, $"{source} is too large: {what} more than {MaxProfileBytes >> 20}MB, the most LeakAssert reads as one profile.");

    /// <summary>Reads a .pb.gz file; messages name the file by its file name, or by the path when there is no file.</summary>
    /// <exception cref="FileNotFoundException">Nothing is at the path.</exception>
    public static HeapProfile Read(string path)
    {
        // Opening a directory fails as "access denied", and a missing directory on the way is not a
        // FileNotFoundException: both would name the path in .NET's words, not ours.
        if (Directory.Exists(path)) throw new InvalidDataException($"{path} is a directory, not a profile: {Expected}.");
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path} does not exist: {Expected}.", path, e);
        }
        var name = Path.GetFileName(path);
        using (file)
            return Read(ReadCapped(file) ?? throw new InvalidDataException(TooLarge(name, "the file holds")), name);
    }

    /// <summary>The whole file, or null when it holds more than <see cref="MaxProfileBytes"/>; only a length says so unread.</summary>
    private static byte[]? ReadCapped(FileStream file)
    {
        // A pipe or a device has no length (0): it is read until it ends or passes the cap.
        var length = file.CanSeek ? file.Length : 0;
        if (length > MaxProfileBytes) return null;
        var data = new byte[length > 0 ? length : 1 << 16];
        var filled = 0;
        while (true)
        {
            var read = file.Read(data, filled, data.Length - filled);
            if (read == 0) return data[..filled];
            filled += read;
            if (filled < data.Length) continue;
            // Full: one more byte says whether the file ends here, without an array that could hold it.
            var next = file.ReadByte();
            if (next < 0) return data;
            if (filled == MaxProfileBytes) return null;
            Array.Resize(ref data, (int)Math.Min(2L * data.Length, MaxProfileBytes));
            data[filled++] = (byte)next;
        }
    }

    /// <summary>Reads the bytes of a .pb.gz file; <paramref name="source"/> names them in error messages.</summary>
    public static HeapProfile Read(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0) throw new InvalidDataException($"{source} is empty: {Expected}.");
        Proto.Profile? message;
        if (IsGzip(data))
        {
            message = TryParse(Gunzip(data, source))
                ?? throw new InvalidDataException($"{source} is not a pprof profile: its gzip data does not hold a profile.proto message; {Expected}.");
        }
        else
        {
            // pprof also reads the message uncompressed. Only bytes that parse as one and start like one (a string
            // table and sample types) are taken for one; anything else was meant to be gzip.
            message = TryParse(data);
            if (message is null || message.StringTable.Count == 0 || message.StringTable[0].Length != 0 || message.SampleType.Count == 0)
                throw new InvalidDataException($"{source} is not gzip data: {Expected}.");
        }
        if (Problem(message) is { } problem) throw new InvalidDataException($"{source} is not a pprof profile: {problem}.");
        return ToHeapProfile(message);
    }

    private static bool IsGzip(byte[] data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    private static byte[] Gunzip(byte[] data, string source)
    {
        // A gzip member is a 10-byte header, the deflate data, then CRC-32 and ISIZE (length mod 2^32), 4 bytes each.
        const int HeaderAndTrailer = 18;
        var truncated = new InvalidDataException($"{source} is truncated gzip data: its compressed stream ends early; expected a complete gzipped pprof profile (.pb.gz).");
        if (data.Length < HeaderAndTrailer) throw truncated;
        // Two passes: the first only counts, so that a bomb is refused having kept nothing, and a profile then comes
        // out into an array of its exact size. The trailer's length cannot decide alone: a cut-off file's is garbage.
        var length = Decompress(data, source, into: null);
        if (length > MaxProfileBytes) throw new InvalidDataException(TooLarge(source, "its gzip data decompresses to"));
        // .NET stops quietly at the end of a cut-off stream (it checks the CRC only when the trailer is there), so a
        // truncated file shows as a trailer that does not match what came out. pprof writes one gzip member only.
        var isize = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(data.Length - 4));
        if (isize != (uint)length) throw truncated;
        var output = new byte[length];
        Decompress(data, source, output);
        return output;
    }

    /// <summary>
    /// Decompresses <paramref name="data"/> into <paramref name="into"/>, or with null only counts, stopping once more
    /// than <see cref="MaxProfileBytes"/> came out; returns how many bytes did.
    /// </summary>
    private static long Decompress(byte[] data, string source, byte[]? into)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(data, writable: false), CompressionMode.Decompress);
            if (into is not null)
            {
                gzip.ReadExactly(into);
                return into.Length;
            }
            var scratch = new byte[1 << 16];
            long length = 0;
            int read;
            while (length <= MaxProfileBytes && (read = gzip.Read(scratch)) > 0) length += read;
            return length;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source} is corrupt gzip data: it fails to decompress or its checksum does not match; {Expected}.", e);
        }
    }

    private static Proto.Profile? TryParse(byte[] bytes)
    {
        try
        {
            return Proto.Profile.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>Why the message is no heap profile, as a clause that also says what was expected; null when it is one.</summary>
    private static string? Problem(Proto.Profile p)
    {
        var strings = p.StringTable;
        if (strings.Count == 0 || strings[0].Length != 0) return "its string table does not start with the empty string, as profile.proto requires";
        var beyond = p.SampleType.SelectMany(t => new[] { t.Type, t.Unit })
            .Concat(p.Comment).Append(p.DefaultSampleType)
            .Concat(p.Function.SelectMany(f => new[] { f.Name, f.SystemName, f.Filename }))
            .Concat(p.Sample.SelectMany(s => s.Label).SelectMany(l => new[] { l.Key, l.Str, l.NumUnit }))
            .FirstOrDefault(i => i < 0 || i >= strings.Count, 0L);
        if (beyond != 0) return $"it refers to string {beyond}, beyond its {strings.Count}-entry string table";

        var types = p.SampleType.Select(t => $"{strings[(int)t.Type]}/{strings[(int)t.Unit]}").ToList();
        var wanted = PprofWriter.SampleTypes.Select(t => $"{t.Type}/{t.Unit}").ToList();
        if (!wanted.All(types.Contains))
            return $"its sample types are {(types.Count == 0 ? "none" : string.Join(", ", types))}; expected a heap profile with {string.Join(", ", wanted)}";

        var functions = new HashSet<ulong>();
        foreach (var f in p.Function)
            if (f.Id == 0 || !functions.Add(f.Id)) return $"its function ID {f.Id} is zero or repeated; expected unique IDs from 1";
        var locations = new HashSet<ulong>();
        foreach (var l in p.Location)
        {
            if (l.Id == 0 || !locations.Add(l.Id)) return $"its location ID {l.Id} is zero or repeated; expected unique IDs from 1";
            foreach (var line in l.Line)
            {
                if (!functions.Contains((ulong)line.FunctionId)) return $"location {l.Id} refers to function {line.FunctionId}, which the profile does not define";
                if (line.Line_ is < 0 or > int.MaxValue) return $"location {l.Id} has line {line.Line_}; expected a line number from 0 to {int.MaxValue}";
            }
        }
        for (var i = 0; i < p.Sample.Count; i++)
        {
            var s = p.Sample[i];
            if (s.Value.Count != p.SampleType.Count)
                return $"sample {i + 1} has {s.Value.Count} values; expected one for each of its {p.SampleType.Count} sample types";
            foreach (var id in s.LocationId)
                if (!locations.Contains(id)) return $"sample {i + 1} refers to location {id}, which the profile does not define";
        }
        foreach (var (type, unit) in new[] { PprofWriter.AllocSamples, PprofWriter.InuseSamples })
        {
            var column = types.IndexOf($"{type}/{unit}");
            for (var i = 0; column >= 0 && i < p.Sample.Count; i++)
                if (p.Sample[i].Value[column] > int.MaxValue)
                    return $"sample {i + 1} has {type} {p.Sample[i].Value[column]}; expected a count up to {int.MaxValue}";
        }
        return null;
    }

    private static HeapProfile ToHeapProfile(Proto.Profile p)
    {
        var strings = p.StringTable;
        var functions = p.Function.ToDictionary(f => f.Id);
        var locations = p.Location.ToDictionary(l => l.Id);
        int Column((string Type, string Unit) t) =>
            p.SampleType.ToList().FindIndex(v => strings[(int)v.Type] == t.Type && strings[(int)v.Unit] == t.Unit);
        var index = PprofWriter.SampleTypes.ToDictionary(t => t.Value, t => Column((t.Type, t.Unit)));
        // A file without these (not LeakAssert's) reads as 0. pprof's "-proto -base" subtracts them as it subtracts
        // the rest: a negative count or variance says only that the base had more, so it reads as unknown (0) too.
        var allocSamples = Column(PprofWriter.AllocSamples);
        var inuseSamples = Column(PprofWriter.InuseSamples);
        var variance = Column(PprofWriter.InuseVariance);

        var frames = new Dictionary<ulong, Frame[]>();
        Frame[] FramesOf(ulong locationId)
        {
            if (frames.TryGetValue(locationId, out var known)) return known;
            var location = locations[locationId];
            // Line entries are innermost first, as stacks are; a location without any is an unsymbolized address.
            known = location.Line.Count == 0
                ? [new Frame(string.Create(CultureInfo.InvariantCulture, $"0x{location.Address:x}"), "", null, 0)]
                : location.Line.Select(line => ToFrame(functions[(ulong)line.FunctionId], (int)line.Line_)).ToArray();
            return frames[locationId] = known;
        }
        Frame ToFrame(Proto.Function f, int line)
        {
            var name = strings[(int)f.Name];
            var systemName = strings[(int)f.SystemName];
            var module = systemName.EndsWith("!" + name, StringComparison.Ordinal) ? systemName[..^(name.Length + 1)] : "";
            var file = strings[(int)f.Filename];
            return new Frame(name, module, file.Length == 0 ? null : file, line);
        }

        var samples = new List<ProfileSample>(p.Sample.Count);
        foreach (var s in p.Sample)
        {
            long Extra(int column) => column < 0 ? 0 : Math.Max(0, s.Value[column]);
            samples.Add(new ProfileSample(
                s.LocationId.SelectMany(FramesOf).ToArray(),
                s.Label.Where(l => strings[(int)l.Key] == PprofWriter.TypeLabel).Select(l => strings[(int)l.Str]).FirstOrDefault() ?? "",
                s.Value[index[SampleValue.AllocObjects]],
                s.Value[index[SampleValue.AllocSpace]],
                s.Value[index[SampleValue.InuseObjects]],
                s.Value[index[SampleValue.InuseSpace]],
                (int)Extra(allocSamples),
                (int)Extra(inuseSamples),
                Extra(variance)));
        }

        var name = p.Comment.Select(c => strings[(int)c])
            .FirstOrDefault(c => c.StartsWith(PprofWriter.NameCommentPrefix, StringComparison.Ordinal))?[PprofWriter.NameCommentPrefix.Length..];
        // Any int64 of nanoseconds (the years 1677 to 2262) is a DateTimeOffset.
        return new HeapProfile(string.IsNullOrEmpty(name) ? UnnamedProfile : name, samples, DateTimeOffset.UnixEpoch.AddTicks(p.TimeNanos / 100));
    }
}
