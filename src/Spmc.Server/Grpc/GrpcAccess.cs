using global::Grpc.Core;
using Spmc.Core.Systems;
using Spmc.Server.Security;

namespace Spmc.Server.Grpc;

/// <summary>
/// The system policies for RPCs: the system ID is in the request message, so each RPC asks (resource-based
/// authorization) once it has read it; refusals map to UNAUTHENTICATED / PERMISSION_DENIED (ErrorInterceptor).
/// </summary>
public static class GrpcAccess
{
    /// <summary>The system <paramref name="id"/>, once the caller may <paramref name="capability"/> it.</summary>
    public static async Task<SimulatedSystem> OpenAsync(this SystemAccess access, SystemRegistry registry, ServerCallContext context, string id,
        SystemCapability capability = SystemCapability.Access)
    {
        await access.RequireAsync(context.GetHttpContext().User, id, capability);
        return registry.Get(id);
    }

    public static Task RequireAsync(this SystemAccess access, ServerCallContext context, string id, SystemCapability capability = SystemCapability.Access) =>
        access.RequireAsync(context.GetHttpContext().User, id, capability);

    public static void RequireCaller(this SystemAccess access, ServerCallContext context) => access.RequireCaller(context.GetHttpContext().User);
}
