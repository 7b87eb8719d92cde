using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace Spmc.Server.Tests.Telemetry;

/// <summary>The real host with its log events captured, SMC logs at Debug, and the tracer exporting to a list.</summary>
public sealed class TelemetryFactory : WebApplicationFactory<Program>
{
    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>The exported spans; lock it to read (the exporter adds under the same lock).</summary>
    public SpanList Spans { get; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Logging:LogLevel:Spmc", "Debug");
        builder.UseSetting("Spmc:Telemetry:Tracing", "true");
        builder.ConfigureLogging(l => l.AddProvider(Logs));
        builder.ConfigureServices(s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans)));
    }

    public async Task<string> NewSystemAsync(string manifest)
    {
        var id = $"tel-{Guid.NewGuid():N}"[..24];
        using var client = CreateClient();
        var body = $$"""{"id":"{{id}}","manifest":{{manifest}}}""";
        var response = await client.PostAsync("/api/v1/systems", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return id;
    }
}

/// <summary>A list the in-memory exporter adds to under its own lock, so a test that locks it reads a stable list.</summary>
public sealed class SpanList : System.Collections.ObjectModel.Collection<Activity>
{
    protected override void InsertItem(int index, Activity item)
    {
        lock (this) base.InsertItem(index, item);
    }
}

/// <summary>One captured log event: its category, level, event, structured fields and rendered message.</summary>
public sealed record LogEvent(string Category, LogLevel Level, EventId Event, IReadOnlyDictionary<string, object?> Fields, string Message);

public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<LogEvent> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Capturing(categoryName, Events);

    public void Dispose() { }

    private sealed class Capturing(string category, ConcurrentQueue<LogEvent> events) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state is IReadOnlyList<KeyValuePair<string, object?>> kv ? kv.ToDictionary(p => p.Key, p => p.Value) : [];
            events.Enqueue(new LogEvent(category, logLevel, eventId, fields, formatter(state, exception)));
        }
    }
}
