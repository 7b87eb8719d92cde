using Spmc.Server.Grpc;
using Spmc.Server.Hosting;
using Spmc.Server.Rest;
using Spmc.Server.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddSpmcPersistence();
builder.AddSpmcDomain();
builder.AddSpmcSecurity();
builder.AddSpmcKestrelLimits();
builder.AddSpmcRateLimiting();
builder.AddSpmcGrpc();
builder.AddSpmcRest();
builder.AddSpmcHealth();
builder.AddSpmcTraces();
builder.AddSpmcTelemetry();

var app = builder.Build();

app.UseSpmcErrors();
app.UseSpmcSecurity();
app.UseSpmcRateLimiting();
app.MapSpmcGrpc();
app.MapSpmcRest();
app.MapSpmcHealth();
app.MapSpmcTelemetry();

app.Run();

/// <summary>Entry point, public for WebApplicationFactory in the tests.</summary>
public partial class Program;
