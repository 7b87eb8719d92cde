namespace Spmc.Core;

/// <summary>
/// A request the service refuses before it reaches the simulated machine. Each kind maps to one HTTP and one
/// gRPC status in the host; the message names the field or the rule.
/// </summary>
public abstract class SpmcRequestException(string message) : Exception(message);

/// <summary>Malformed input: a bad register, manifest field, address or length (HTTP 400, gRPC InvalidArgument).</summary>
public sealed class InvalidRequestException(string message) : SpmcRequestException(message);

/// <summary>An unknown system (HTTP 404, gRPC NotFound).</summary>
public sealed class NotFoundException(string message) : SpmcRequestException(message);

/// <summary>A system ID already in use (HTTP 409, gRPC AlreadyExists).</summary>
public class ConflictException(string message) : SpmcRequestException(message);

/// <summary>
/// A request the system's present state refuses, e.g. a snapshot while a remote partition is attached
/// (HTTP 409, gRPC FailedPrecondition).
/// </summary>
public sealed class StateConflictException(string message) : ConflictException(message);

/// <summary>A memory access the named endpoint may not make (HTTP 403, gRPC PermissionDenied).</summary>
public sealed class AccessDeniedException(string message) : SpmcRequestException(message);

/// <summary>A configured limit reached, e.g. the number of systems (HTTP 429, gRPC ResourceExhausted).</summary>
public sealed class QuotaExceededException(string message) : SpmcRequestException(message);
