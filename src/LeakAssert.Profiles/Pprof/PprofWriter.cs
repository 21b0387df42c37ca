using System.IO.Compression;
using Google.Protobuf;
using LeakAssert.Profiles;
using Proto = LeakAssert.Pprof.Proto;

namespace LeakAssert.Pprof;

/// <summary>
/// Writes a <see cref="HeapProfile"/> as pprof does: a gzipped profile.proto with the four heap sample types
/// (alloc_objects, alloc_space, inuse_objects, inuse_space) and LeakAssert's three after them, inuse_space the
/// default, period 102,400 bytes.
/// </summary>
/// <remarks>
/// A diff profile is written with its after-minus-before values as they are, negative ones included: pprof shows
/// them as is (a negative flat is memory freed since the baseline), the same numbers LeakAssert's own top shows.
/// That equals what <c>go tool pprof -base before.pb.gz after.pb.gz</c> computes from the other two files.
/// <para>
/// Besides pprof's four, each sample has three more values that keep what LeakAssert knows: "alloc_samples" and
/// "inuse_samples" (samples behind the values) and "inuse_space_variance" (in bytes², rounded to a whole one, since
/// sample values are integers). They are values, not labels, because pprof merges samples only when their labels are
/// equal: with them as labels, <c>-base</c> kept a before and an after sample of one stack apart and its total
/// counted both. The allocated type stays a label ("type"): one stack and type has the same one in every file.
/// The profile's comment "leakassert:NAME" names it (before, after or diff), so <see cref="PprofReader"/> restores
/// every field.
/// </para>
/// </remarks>
internal static class PprofWriter
{
    internal const string NameCommentPrefix = "leakassert:";
    internal const string TypeLabel = "type";

    /// <summary>pprof's heap sample types, first in every sample's values in the order Go's heap profiles have them.</summary>
    internal static readonly (string Type, string Unit, SampleValue Value)[] SampleTypes =
        [.. SampleValues.PprofOrder.Select(v => (v.Name(), v.Unit(), v))];

    /// <summary>LeakAssert's own values, after pprof's four: the samples behind them and the inuse_space variance.</summary>
    internal static readonly (string Type, string Unit) AllocSamples = ("alloc_samples", "count");
    internal static readonly (string Type, string Unit) InuseSamples = ("inuse_samples", "count");
    internal static readonly (string Type, string Unit) InuseVariance = ("inuse_space_variance", "bytes²");

    /// <summary>The profile as the bytes of a .pb.gz file.</summary>
    public static byte[] ToBytes(HeapProfile profile)
    {
        using var buffer = new MemoryStream();
        Write(profile, buffer);
        return buffer.ToArray();
    }

    /// <summary>Writes the gzipped profile to a stream and leaves the stream open.</summary>
    public static void Write(HeapProfile profile, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        var message = ToMessage(profile);
        using var gzip = new GZipStream(destination, CompressionLevel.Optimal, leaveOpen: true);
        message.WriteTo(gzip);
    }

    internal static Proto.Profile ToMessage(HeapProfile profile)
    {
        var strings = new StringTable();
        var message = new Proto.Profile();
        foreach (var (type, unit) in SampleTypes.Select(t => (t.Type, t.Unit)).Append(AllocSamples).Append(InuseSamples).Append(InuseVariance))
            message.SampleType.Add(new Proto.ValueType { Type = strings[type], Unit = strings[unit] });
        message.DefaultSampleType = strings[SampleValue.InuseSpace.Name()];
        message.PeriodType = new Proto.ValueType { Type = strings["space"], Unit = strings["bytes"] };
        message.Period = HeapProfile.SamplingPeriodBytes;
        message.TimeNanos = (profile.CapturedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        message.Comment.Add(strings[NameCommentPrefix + profile.Name]);

        // One mapping per module, the workload's first: pprof names a profile after its first mapping's file
        // ("File: LeakAssert.Demo"; without one, go tool pprof -http titled it "unknown inuse_space"). Functions,
        // files and lines are all there, so the flags tell pprof there is nothing to symbolize.
        var mappings = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var module in Modules(profile))
        {
            mappings[module] = (ulong)mappings.Count + 1;
            message.Mapping.Add(new Proto.Mapping
            {
                Id = mappings[module],
                Filename = strings[module],
                HasFunctions = true,
                HasFilenames = true,
                HasLineNumbers = true,
            });
        }

        // Frames are deduplicated the way pprof expects: one Function per (name, module, file), one Location per
        // function and line. Module is part of the key because it is part of system_name.
        var functions = new Dictionary<(string Name, string Module, string? File), ulong>();
        var locations = new Dictionary<(ulong Function, int Line), ulong>();
        foreach (var sample in profile.Samples)
        {
            var entry = new Proto.Sample();
            foreach (var frame in sample.Stack)
            {
                var functionKey = (frame.Function, frame.Module, frame.File);
                if (!functions.TryGetValue(functionKey, out var functionId))
                {
                    functionId = (ulong)functions.Count + 1;
                    functions[functionKey] = functionId;
                    message.Function.Add(new Proto.Function
                    {
                        Id = functionId,
                        Name = strings[frame.Function],
                        SystemName = strings[frame.Module + "!" + frame.Function],
                        Filename = strings[frame.File ?? ""],
                    });
                }
                if (!locations.TryGetValue((functionId, frame.Line), out var locationId))
                {
                    locationId = (ulong)locations.Count + 1;
                    locations[(functionId, frame.Line)] = locationId;
                    var location = new Proto.Location { Id = locationId, MappingId = mappings[frame.Module] };
                    location.Line.Add(new Proto.Line { FunctionId = (long)functionId, Line_ = frame.Line });
                    message.Location.Add(location);
                }
                entry.LocationId.Add(locationId);
            }
            foreach (var (_, _, value) in SampleTypes) entry.Value.Add(sample[value]);
            entry.Value.Add(sample.AllocSamples);
            entry.Value.Add(sample.InuseSamples);
            entry.Value.Add((long)Math.Round(sample.InuseBytesVariance));
            entry.Label.Add(new Proto.Label { Key = strings[TypeLabel], Str = strings[sample.TypeName] });
            message.Sample.Add(entry);
        }
        message.StringTable.Add(strings.Entries);
        return message;
    }

    /// <summary>
    /// The modules of the profile's frames, the workload's first: the module of the outermost frames (stacks start at
    /// the workload) that hold the most inuse_space, then alloc_space, then by name, so that a runtime thread's few
    /// allocations do not name a leak's profile; "LeakAssert" names the mapping of a profile without samples.
    /// </summary>
    private static IEnumerable<string> Modules(HeapProfile profile)
    {
        var main = profile.Samples.Where(s => s.Stack.Count > 0).GroupBy(s => s.Stack[^1].Module, StringComparer.Ordinal)
            .OrderByDescending(g => g.Sum(s => Math.Abs(s.InuseSpace))).ThenByDescending(g => g.Sum(s => s.AllocSpace))
            .ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).FirstOrDefault() ?? "LeakAssert";
        return profile.Samples.SelectMany(s => s.Stack).Select(f => f.Module).Prepend(main).Distinct(StringComparer.Ordinal);
    }

    /// <summary>pprof's string table: each string once, "" at index 0 as the format requires.</summary>
    private sealed class StringTable
    {
        private readonly Dictionary<string, long> _index = new(StringComparer.Ordinal) { [""] = 0 };

        public List<string> Entries { get; } = [""];

        public long this[string value]
        {
            get
            {
                if (_index.TryGetValue(value, out var i)) return i;
                _index[value] = Entries.Count;
                Entries.Add(value);
                return Entries.Count - 1;
            }
        }
    }
}
