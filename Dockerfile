# The Server (functions/Orchestrator.Server) as a container image. Build context: the repository root.
#   docker build -t llm-orchestrator .        (docker-compose up -d builds it too)
# docs/self-hosting.md explains the choices; tests/Orchestrator.Server.Tests/SelfHostingTests.cs checks that the port,
# probe path, user, published project and entry point agree with the Server.

# No BuildKit-only syntax (no # syntax= line, no --platform=$BUILDPLATFORM): the classic builder can build it too.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore from the project files alone: this layer is reused until a package or a project reference changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY functions/Orchestrator.Core/Orchestrator.Core.csproj functions/Orchestrator.Core/
COPY functions/Orchestrator.Durable.Postgres/Orchestrator.Durable.Postgres.csproj functions/Orchestrator.Durable.Postgres/
COPY functions/Orchestrator.Server/Orchestrator.Server.csproj functions/Orchestrator.Server/
# ReadyToRun needs the runtime identifier of the image's architecture: the build stage runs on it (linux-x64, linux-arm64).
RUN dotnet restore functions/Orchestrator.Server/Orchestrator.Server.csproj -r "linux-$(uname -m | sed -e s/x86_64/x64/ -e s/aarch64/arm64/)"

# .editorconfig sets analyzer severities, and warnings are errors: the image builds with the same rules as CI.
COPY .editorconfig ./
COPY functions/Orchestrator.Core/ functions/Orchestrator.Core/
COPY functions/Orchestrator.Durable.Postgres/ functions/Orchestrator.Durable.Postgres/
COPY functions/Orchestrator.Server/ functions/Orchestrator.Server/
# The output holds definitions/ (the sample workflows, Workflows:DefinitionsPath resolves next to the dll). ReadyToRun:
# precompiled, so a started or restarted container serves (and re-runs a crashed step) about half a second sooner.
RUN dotnet publish functions/Orchestrator.Server/Orchestrator.Server.csproj -c Release --no-restore \
    -r "linux-$(uname -m | sed -e s/x86_64/x64/ -e s/aarch64/arm64/)" --self-contained false -p:PublishReadyToRun=true \
    -p:UseAppHost=false -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# The .NET images' convention, stated because EXPOSE, HEALTHCHECK and the Kubernetes probes rely on it: port 8080 on
# every interface. (Without it or ASPNETCORE_URLS the Server would listen on localhost only, unreachable from outside.)
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
# Owned by root and read-only to the process: the app cannot rewrite its own binaries.
COPY --from=build /app ./
# The images' non-root user 'app'; $APP_UID is numeric (1654), so Kubernetes' runAsNonRoot can verify it.
USER $APP_UID
# The aspnet image has no curl or wget (removed to keep its attack surface small); bash's /dev/tcp asks /health/live
# without adding a package. Kubernetes ignores HEALTHCHECK and uses the Deployment's probes instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]
# Exec form: dotnet is PID 1 and receives SIGTERM itself, so `docker stop` and a pod's deletion start the Server's
# graceful shutdown instead of a shell swallowing the signal until the kill.
ENTRYPOINT ["dotnet", "Orchestrator.Server.dll"]
