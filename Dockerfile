# Spmc, the FF-A secure-world simulator, as a container image.
#
#   docker build -t spmc .                  # standard: builds from source in the .NET SDK image
#   docker run --rm -p 127.0.0.1:5080:5080 -p 127.0.0.1:5081:5081 spmc
#
# Without network access inside builds (CI here): publish on the host, then build the `prebuilt` target,
# which only copies that output into the runtime image:
#   dotnet publish src/Spmc.Server -c Release -o artifacts/publish
#   docker build --target prebuilt -t spmc .
#
# Ports: 5080 REST + Swagger (HTTP/1.1, GET /healthz), 5081 gRPC (HTTP/2 only, grpc.health.v1).
# Manifests: the default system comes from /app/manifests/default.json; every *.json mounted into
# /manifests becomes one more system named after its file (Spmc__ManifestDirectory).
#
# Stage order matters: Docker's classic builder (Docker 20.10 without BuildKit, Testcontainers, compose
# 1.29) builds EVERY stage up to the requested target, so the stages a `--target` selects on a machine
# without registry access (smoke, prebuilt) come before the SDK stage. BuildKit builds only what the
# target needs, so the order costs nothing there. The default target is the last stage, `final`.

ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0

# ---- runtime: everything of the final image except the application ------------------------------
FROM ${ASPNET_IMAGE} AS runtime
# Both endpoints on every interface of the container; the rest of the configuration comes from
# appsettings.json and can be overridden with environment variables (Spmc__MaxSystems, Logging__..).
# ASPNETCORE_HTTP_PORTS (8080 in the base image) is cleared: the named Kestrel endpoints are the only ones.
# Access tokens are on (docs/security.md): a system's calls need the token its creation answered, or the
# operator token, which the image does not hold: pass it at run time (-e Spmc__Auth__OperatorToken=...).
ENV ASPNETCORE_HTTP_PORTS= \
    Kestrel__Endpoints__Rest__Url=http://0.0.0.0:5080 \
    Kestrel__Endpoints__Grpc__Url=http://0.0.0.0:5081 \
    Spmc__Auth__Mode=tokens \
    Spmc__DefaultManifest=manifests/default.json \
    Spmc__ManifestDirectory=/manifests \
    DOTNET_NOLOGO=1
WORKDIR /app
# The manifest directory exists (empty) so that the service starts without a mount. /data is where a
# volume for durable systems goes (-e Spmc__Persistence__Mode=batched -e Spmc__Persistence__Path=/data
# -v spmc-data:/data): owned by the app user, so a new named volume takes that ownership.
RUN mkdir -p /manifests /data && chown ${APP_UID:-1654} /data
EXPOSE 5080 5081
# GET /healthz over bash's /dev/tcp: the base image has neither curl nor wget, and adding them would
# cost size and a network access. The port is taken from the REST endpoint's URL.
HEALTHCHECK --interval=3s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "p=${Kestrel__Endpoints__Rest__Url##*:}; p=${p%%/*}; exec 3<>/dev/tcp/127.0.0.1/${p:-5080} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]
# The non-root user every .NET 8+ base image has (app, UID 1654).
USER ${APP_UID:-1654}
# exec form: dotnet is PID 1 and gets SIGTERM itself, then stops gracefully with exit code 0.
ENTRYPOINT ["dotnet", "Spmc.Server.dll"]

# ---- smoke: the client docker-compose.yml runs against the service -------------------------------
FROM ${ASPNET_IMAGE} AS smoke
COPY scripts/smoke.sh /usr/local/bin/spmc-smoke
USER ${APP_UID:-1654}
ENTRYPOINT ["bash", "/usr/local/bin/spmc-smoke"]

# ---- prebuilt: the runtime plus a `dotnet publish` made outside (artifacts/publish) ----------------
# The classic builder also builds this stage on its way to `final`, where artifacts/publish may not
# exist: the bracket makes it a wildcard that may match nothing, and appsettings.json (also part of the
# publish output) keeps the instruction from having no source at all. Without the publish output this
# stage yields an image whose `dotnet Spmc.Server.dll` fails at once; the container tests catch that.
FROM runtime AS prebuilt
COPY src/Spmc.Server/appsettings.json artifacts/publis[h] /app/

# ---- build: restore and publish in the SDK image --------------------------------------------------
FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Project files first, so that the restore layer is reused while only sources change.
COPY Directory.Build.props ./
COPY src/Spmc.Abi/Spmc.Abi.csproj src/Spmc.Abi/
COPY src/Spmc.Core/Spmc.Core.csproj src/Spmc.Core/
COPY src/Spmc.Server/Spmc.Server.csproj src/Spmc.Server/
RUN dotnet restore src/Spmc.Server/Spmc.Server.csproj
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/Spmc.Server/Spmc.Server.csproj -c Release --no-restore -o /app/publish \
        -p:UseAppHost=false

# ---- final (default): the runtime plus the application built above --------------------------------
FROM runtime AS final
COPY --from=build /app/publish/ /app/
