namespace Spmc.Server.Grpc;

public static class GrpcExtensions
{
    public static WebApplicationBuilder AddSpmcGrpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorInterceptor>();
            o.MaxReceiveMessageSize = 8 * 1024 * 1024;
        });
        builder.Services.AddGrpcReflection();
        return builder;
    }

    public static WebApplication MapSpmcGrpc(this WebApplication app)
    {
        app.MapGrpcService<SmcGatewayService>();
        app.MapGrpcService<SystemsService>();
        app.MapGrpcService<MemoryService>();
        app.MapGrpcService<InspectorService>();
        app.MapGrpcService<PartitionHostService>();
        app.MapGrpcService<FaultsService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
