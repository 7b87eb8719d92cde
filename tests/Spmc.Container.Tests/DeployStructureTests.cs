using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Spmc.Container.Tests;

/// <summary>
/// The shape of deploy/ (Kubernetes), docker-compose.yml and the Dockerfile, read as files: no Docker and no
/// cluster needed, so these always run. They hold the pieces together: ports, probes, labels and selectors,
/// the manifest ConfigMap and where it is mounted.
/// </summary>
public sealed class DeployStructureTests
{
    private const int RestPort = 5080;
    private const int GrpcPort = 5081;
    private static readonly string Root = SpmcContainerFixture.RepoRoot;

    private static readonly Lazy<IReadOnlyList<YamlMappingNode>> Resources = new(() =>
    {
        var kustomization = Load(Path.Combine(Root, "deploy", "kustomization.yaml")).Single();
        return Seq(kustomization, "resources").Select(r => Str(r))
            .SelectMany(file => Load(Path.Combine(Root, "deploy", file))).ToList();
    });

    private static YamlMappingNode Kind(string kind) => Assert.Single(Resources.Value, r => Str(r, "kind") == kind);
    private static YamlMappingNode Deployment => Kind("Deployment");
    private static YamlMappingNode Container => Assert.Single(Seq(Deployment, "spec", "template", "spec", "containers")).Map();

    [Fact]
    public void Kustomization_lists_a_configmap_a_deployment_a_secret_and_a_service()
    {
        Assert.Equal(["ConfigMap", "Deployment", "Secret", "Service"], Resources.Value.Select(r => Str(r, "kind")).Order());
        Assert.Equal("apps/v1", Str(Deployment, "apiVersion"));
        Assert.Equal("v1", Str(Kind("Service"), "apiVersion"));
        Assert.Equal("v1", Str(Kind("ConfigMap"), "apiVersion"));
        Assert.All(Resources.Value, r => Assert.Equal("spmc", Str(r, "metadata", "labels", "app.kubernetes.io/name")));
    }

    [Fact]
    public void Deployment_selector_matches_its_pod_labels_and_the_service_selects_the_same_pods()
    {
        var podLabels = Labels(Node(Deployment, "spec", "template", "metadata", "labels"));
        var selector = Labels(Node(Deployment, "spec", "selector", "matchLabels"));
        var serviceSelector = Labels(Node(Kind("Service"), "spec", "selector"));
        Assert.NotEmpty(selector);
        Assert.All(selector, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
        Assert.NotEmpty(serviceSelector);
        Assert.All(serviceSelector, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
    }

    [Fact]
    public void Container_and_service_expose_rest_and_grpc()
    {
        var containerPorts = Seq(Container, "ports").Select(p => p.Map()).ToDictionary(p => Str(p, "name"), p => Int(p, "containerPort"));
        Assert.Equal(new Dictionary<string, int> { ["rest"] = RestPort, ["grpc"] = GrpcPort }, containerPorts);

        var servicePorts = Seq(Kind("Service"), "spec", "ports").Select(p => p.Map()).ToList();
        Assert.Equal(["grpc", "rest"], servicePorts.Select(p => Str(p, "name")).Order());
        foreach (var p in servicePorts)
        {
            Assert.Equal(containerPorts[Str(p, "name")], Int(p, "port"));
            // targetPort names a container port (or is its number).
            var target = Str(p, "targetPort");
            Assert.True(containerPorts.ContainsKey(target) || containerPorts.ContainsValue(int.Parse(target)), $"targetPort {target}");
        }
    }

    [Theory]
    [InlineData("readinessProbe")]
    [InlineData("livenessProbe")]
    public void Probes_use_the_grpc_health_service_on_the_grpc_port(string probe)
    {
        var p = Node(Container, probe).Map();
        Assert.Equal(GrpcPort, Int(p, "grpc", "port"));
        Assert.False(p.Children.ContainsKey("httpGet"));
        Assert.False(p.Children.ContainsKey("tcpSocket"));
        Assert.True(Int(p, "periodSeconds") > 0);
    }

    [Fact]
    public void Container_has_requests_and_limits_and_runs_unprivileged()
    {
        foreach (var section in new[] { "requests", "limits" })
            foreach (var resource in new[] { "cpu", "memory" })
                Assert.False(string.IsNullOrWhiteSpace(Str(Container, "resources", section, resource)), $"resources.{section}.{resource}");

        Assert.Equal("true", Str(Deployment, "spec", "template", "spec", "securityContext", "runAsNonRoot"));
        Assert.Equal("false", Str(Container, "securityContext", "allowPrivilegeEscalation"));
        Assert.Equal("true", Str(Container, "securityContext", "readOnlyRootFilesystem"));
        // A read-only root needs a writable /tmp for the runtime.
        Assert.Contains(Seq(Container, "volumeMounts"), m => Str(m, "mountPath") == "/tmp");
    }

    [Fact]
    public void Manifest_configmap_is_mounted_on_the_manifest_directory()
    {
        var configMap = Kind("ConfigMap");
        var volumes = Seq(Deployment, "spec", "template", "spec", "volumes").Select(v => v.Map()).ToList();
        var volume = Assert.Single(volumes, v => v.Children.ContainsKey("configMap"));
        Assert.Equal(Str(configMap, "metadata", "name"), Str(volume, "configMap", "name"));

        var mount = Assert.Single(Seq(Container, "volumeMounts"), m => Str(m, "name") == Str(volume, "name")).Map();
        Assert.Equal("true", Str(mount, "readOnly"));
        var env = Seq(Container, "env").Select(e => e.Map()).Where(e => e.Children.ContainsKey("value")).ToDictionary(e => Str(e, "name"), e => Str(e, "value"));
        Assert.Equal(env["Spmc__ManifestDirectory"], Str(mount, "mountPath"));
        Assert.Equal("http://0.0.0.0:5080", env["Kestrel__Endpoints__Rest__Url"]);
        Assert.Equal("http://0.0.0.0:5081", env["Kestrel__Endpoints__Grpc__Url"]);
    }

    [Fact]
    public void Configmap_holds_the_same_manifests_as_deploy_manifests()
    {
        var data = Node(Kind("ConfigMap"), "data").Map().Children.ToDictionary(kv => Str(kv.Key), kv => Str(kv.Value));
        var files = Directory.GetFiles(Path.Combine(Root, "deploy", "manifests"), "*.json").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Assert.Equal(files.Keys.Order(), data.Keys.Order());
        foreach (var (name, text) in files)
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(text), JsonNode.Parse(data[name])), $"{name}: ConfigMap and deploy/manifests differ");
    }

    [Fact]
    public void Compose_publishes_on_loopback_mounts_manifests_and_gates_the_smoke_client_on_health()
    {
        var compose = Load(Path.Combine(Root, "docker-compose.yml")).Single();
        var spmc = Node(compose, "services", "spmc").Map();
        var ports = Seq(spmc, "ports").Select(p => Str(p)).ToList();
        Assert.Equal(2, ports.Count);
        Assert.All(ports, p => Assert.StartsWith("127.0.0.1:", p));
        Assert.Contains(ports, p => p.EndsWith($":{RestPort}", StringComparison.Ordinal));
        Assert.Contains(ports, p => p.EndsWith($":{GrpcPort}", StringComparison.Ordinal));
        Assert.Contains(Seq(spmc, "volumes").Select(v => Str(v)), v => v.Split(':')[^2] == "/manifests" || v.Split(':')[^1] == "/manifests");
        Assert.Equal("/manifests", Str(spmc, "environment", "Spmc__ManifestDirectory"));

        var smoke = Node(compose, "services", "smoke").Map();
        Assert.Equal("smoke", Str(smoke, "build", "target"));
        Assert.Equal("service_healthy", Str(smoke, "depends_on", "spmc", "condition"));
    }

    [Fact]
    public void Tokens_are_on_with_the_operator_token_from_a_secret_in_deploy_compose_and_the_image()
    {
        var env = Seq(Container, "env").Select(e => e.Map()).ToDictionary(e => Str(e, "name"));
        Assert.Equal("tokens", Str(env["Spmc__Auth__Mode"], "value"));
        var secretName = Str(env["Spmc__Auth__OperatorToken"], "valueFrom", "secretKeyRef", "name");
        var key = Str(env["Spmc__Auth__OperatorToken"], "valueFrom", "secretKeyRef", "key");
        var secret = Kind("Secret");
        Assert.Equal(secretName, Str(secret, "metadata", "name"));
        Assert.True(Str(secret, "stringData", key).Length >= 16, "the operator token must have at least 16 characters");

        var compose = Load(Path.Combine(Root, "docker-compose.yml")).Single();
        Assert.Equal("tokens", Str(compose, "services", "spmc", "environment", "Spmc__Auth__Mode"));
        // The smoke client sends the service's operator token (the same variable with the same default).
        Assert.Equal(Str(compose, "services", "spmc", "environment", "Spmc__Auth__OperatorToken"), Str(compose, "services", "smoke", "environment", "SPMC_TOKEN"));

        Assert.Contains(File.ReadAllLines(Path.Combine(Root, "Dockerfile")), l => l.Trim() == @"Spmc__Auth__Mode=tokens \");
    }

    [Fact]
    public void Dockerfile_default_target_is_the_sdk_build_and_prebuilt_comes_before_it()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "Dockerfile"));
        var stages = lines.Select(l => Regex.Match(l, @"^FROM\s+(\S+)\s+AS\s+(\S+)", RegexOptions.IgnoreCase))
            .Where(m => m.Success).Select(m => (Image: m.Groups[1].Value, Name: m.Groups[2].Value)).ToList();
        Assert.Equal("final", stages[^1].Name);
        var names = stages.Select(s => s.Name).ToList();
        // Docker's classic builder builds every stage before the target: the SDK stage must come after
        // the targets used without a registry.
        Assert.True(names.IndexOf("prebuilt") < names.IndexOf("build"));
        Assert.True(names.IndexOf("smoke") < names.IndexOf("build"));
        Assert.Contains(lines, l => l.StartsWith("ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0", StringComparison.Ordinal));
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^EXPOSE\s+{RestPort}\s+{GrpcPort}\s*$"));
        Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("USER ", StringComparison.Ordinal) && !l.Contains("root", StringComparison.Ordinal));
        Assert.Contains(File.ReadAllLines(Path.Combine(Root, ".dockerignore")), l => l.Trim() == "!artifacts/publish/");
    }

    // --- YAML helpers -----------------------------------------------------------------------------------

    private static List<YamlMappingNode> Load(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path)) stream.Load(reader);
        return stream.Documents.Select(d => Assert.IsType<YamlMappingNode>(d.RootNode)).ToList();
    }

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            var map = Assert.IsType<YamlMappingNode>(node);
            Assert.True(map.Children.TryGetValue(new YamlScalarNode(key), out var child), $"missing '{key}' in {string.Join('.', path)}");
            node = child!;
        }
        return node;
    }

    private static IEnumerable<YamlNode> Seq(YamlNode node, params string[] path) => Assert.IsType<YamlSequenceNode>(Node(node, path)).Children;
    private static string Str(YamlNode node, params string[] path) => Assert.IsType<YamlScalarNode>(Node(node, path)).Value ?? "";
    private static int Int(YamlNode node, params string[] path) => int.Parse(Str(node, path));

    private static Dictionary<string, string> Labels(YamlNode node) =>
        Assert.IsType<YamlMappingNode>(node).Children.ToDictionary(kv => Str(kv.Key), kv => Str(kv.Value));
}

internal static class YamlNodeExtensions
{
    public static YamlMappingNode Map(this YamlNode node) => Assert.IsType<YamlMappingNode>(node);
}
