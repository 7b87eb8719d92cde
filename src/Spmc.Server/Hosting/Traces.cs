using Microsoft.Extensions.Options;
using Spmc.Core;
using Spmc.Core.Systems;
using Spmc.Core.Tracing;

namespace Spmc.Server.Hosting;

/// <summary>Traces: the ring, followers and recordings (section "Spmc:Traces"; environment Spmc__Traces__Directory, ...).</summary>
public sealed class TracesOptions
{
    /// <summary>Where recordings go ({Directory}/{id}.jsonl), created on demand. Relative paths are resolved against the working directory.</summary>
    public string Directory { get; set; } = "traces";

    /// <summary>Entries each system's ring keeps; the oldest are dropped first.</summary>
    public int RingCapacity { get; set; } = 1000;

    /// <summary>Approximate bytes (of the entries' JSON) each ring keeps.</summary>
    public long RingMaxBytes { get; set; } = 16L << 20;

    /// <summary>Entries buffered per follower (Trace with follow); one further behind gets an "end" line (lagged).</summary>
    public int FollowerBuffer { get; set; } = 1000;

    /// <summary>Entries queued for a recording's file; if the disk falls further behind, the recording ends.</summary>
    public int RecordingQueue { get; set; } = 10_000;

    /// <summary>Approximate bytes (of the entries' JSON) queued for a recording's file; beyond, the recording ends.</summary>
    public long RecordingMaxBytes { get; set; } = 64L << 20;

    /// <summary>The largest trace POST /api/v1/replay accepts (413 beyond). gRPC Replay is bounded by the 8 MiB message size.</summary>
    public long MaxReplayBytes { get; set; } = 64L << 20;
}

/// <summary>The host's side of traces: the one recorder, where recordings go, and creating a system that records.</summary>
public sealed class Traces(TraceRecorder recorder, SystemRegistry registry, IOptions<SpmcOptions> options, IHostApplicationLifetime lifetime)
{
    /// <summary>Fires when the host begins to stop: followers end then, so they do not hold the shutdown for its timeout.</summary>
    public CancellationToken Stopping => lifetime.ApplicationStopping;

    public TraceRecorder Recorder => recorder;

    public TracesOptions Options => options.Value.Traces;

    /// <summary>The recordings' directory, absolute.</summary>
    public string Directory => Path.GetFullPath(Options.Directory);

    /// <summary>Creates a system; with <paramref name="record"/> its trace goes to {Directory}/{id}.jsonl from its first call.</summary>
    public SimulatedSystem Create(string? id, string manifestJson, bool record) => Record(registry.Create(id, manifestJson), record);

    /// <summary>As <see cref="Create(string?, string, bool)"/> from a snapshot document (docs/snapshots.md).</summary>
    public SimulatedSystem Create(string? id, Core.Snapshots.SystemSnapshot snapshot, bool record) => Record(registry.Create(id, snapshot), record);

    private SimulatedSystem Record(SimulatedSystem system, bool record)
    {
        if (!record) return system;
        // IDs are 1-63 of a-z 0-9 . _ - starting with a letter or digit: a file name, never a path or "..".
        var path = Path.Combine(Directory, system.Id + ".jsonl");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            recorder.StartRecording(system, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            registry.Delete(system.Id);
            throw new InvalidRequestException($"record: cannot record to '{path}' (Spmc:Traces:Directory): {e.Message}");
        }
        return system;
    }

    /// <summary>The file <paramref name="system"/> records to, or null.</summary>
    public string? RecordingOf(SimulatedSystem system) => recorder.IsRecording(system, out var path) ? path : null;
}

public static class TracesExtensions
{
    /// <summary>The trace recorder as an observer of every system, and the host's <see cref="Traces"/>.</summary>
    public static WebApplicationBuilder AddSpmcTraces(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SpmcOptions>()
            .Validate(o => o.Traces.RingCapacity > 0, "Spmc:Traces:RingCapacity must be positive")
            .Validate(o => o.Traces.RingMaxBytes > 0, "Spmc:Traces:RingMaxBytes must be positive")
            .Validate(o => o.Traces.FollowerBuffer > 0, "Spmc:Traces:FollowerBuffer must be positive")
            .Validate(o => o.Traces.RecordingQueue > 0, "Spmc:Traces:RecordingQueue must be positive")
            .Validate(o => o.Traces.RecordingMaxBytes > 0, "Spmc:Traces:RecordingMaxBytes must be positive")
            .Validate(o => o.Traces.MaxReplayBytes > 0, "Spmc:Traces:MaxReplayBytes must be positive")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Traces.Directory), "Spmc:Traces:Directory must not be empty");
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SpmcOptions>>().Value.Traces;
            return new TraceRecorder(new TraceRecorderOptions
            {
                Capacity = o.RingCapacity,
                MaxBytes = o.RingMaxBytes,
                FollowerBuffer = o.FollowerBuffer,
                RecordingQueue = o.RecordingQueue,
                RecordingMaxBytes = o.RecordingMaxBytes,
            });
        });
        builder.Services.AddSingleton<ISystemObserver>(sp => sp.GetRequiredService<TraceRecorder>());
        builder.Services.AddSingleton<Traces>();
        return builder;
    }
}
