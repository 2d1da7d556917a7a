package io.postback.gateway.ops;

import io.postback.gateway.config.ConfigException;
import io.postback.gateway.config.GatewayConfig;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.NodeTools;
import io.postback.gateway.support.SharedGateway;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * deploy/kubernetes: valid against the Kubernetes schemas (ops/validate-kubernetes.js, strict about
 * unknown fields), and true to the gateway it deploys: its variables are configuration keys the
 * gateway reads, its probes and metrics path answer on a real gateway, its ports, selectors and names
 * line up, the pod runs as the Dockerfile's user, and the stop budget covers the graceful stop.
 */
class KubernetesManifestsTest {
  private static final Path DIR = Path.of("deploy", "kubernetes").toAbsolutePath();
  private static final Path VALIDATOR = Path.of("ops", "validate-kubernetes.js").toAbsolutePath();
  private static final Pattern VARIABLE = Pattern.compile("GATEWAY_[A-Z0-9_]+");
  /** Vert.x's bound on a graceful HTTP shutdown ({@code HttpServer#shutdown()}: 30 s), used by HttpVerticle#stop. */
  private static final Duration HTTP_SHUTDOWN_BOUND = Duration.ofSeconds(30);

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  private static Map<String, JsonObject> documents;

  @BeforeAll
  static void validateAndLoad() {
    NodeTools.Result r = NodeTools.node(120, VALIDATOR, "--json", DIR.toString());
    assertThat(r.exitCode()).as("validator output: %s", r.output()).isZero();
    documents = new HashMap<>();
    for (Object o : new JsonArray(r.output().trim())) {
      JsonObject doc = ((JsonObject) o).getJsonObject("document");
      documents.put(doc.getString("kind"), doc);
    }
  }

  @Test
  void manifestsPassTheKubernetesSchemasStrictly() {
    assertThat(documents).containsOnlyKeys("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
        "ServiceMonitor", "ConfigMap", "ServiceAccount", "Kustomization");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      misspelled field        | deployment.yaml              | readinessProbe:               | readinessProbes:              | unknown field "Deployment.spec.template.spec.containers.0.readinessProbes"
      misspelled CRD field    | servicemonitor.yaml          | interval: 15s                 | intervall: 15s                | unknown field "ServiceMonitor.spec.endpoints.0.intervall"
      wrong type              | service.yaml                 | port: 80                      | port: eighty                  | must be integer
      value outside the enum  | service.yaml                 | type: ClusterIP               | type: ClusterIp               | must be equal to one of the allowed values
      unknown kind            | horizontalpodautoscaler.yaml | kind: HorizontalPodAutoscaler | kind: HorizontalPodAutoScaler | unknown apiVersion/kind autoscaling/v2/HorizontalPodAutoScaler
      unknown apiVersion      | poddisruptionbudget.yaml     | apiVersion: policy/v1         | apiVersion: policy/v1beta9    | unknown apiVersion/kind policy/v1beta9/PodDisruptionBudget
      duplicate key           | configmap.yaml               | 'GATEWAY_METRICS_ENABLED: "true"' | 'GATEWAY_METRICS_ENABLED: "true"\\n  GATEWAY_METRICS_ENABLED: "false"' | Map keys must be unique
      missing name            | serviceaccount.yaml          | '  name: postback-gateway\\n' | ''                            | metadata.name is required
      resource left unlisted  | kustomization.yaml           | '  - servicemonitor.yaml\\n'  | ''                            | servicemonitor.yaml is not listed in resources
      NUL byte in a value     | configmap.yaml               | 'GATEWAY_CONFIG: /app/config/gateway.json' | 'GATEWAY_CONFIG: /app/config/gate\\0way.json' | control character U+0000
      invalid UTF-8           | service.yaml                 | type: ClusterIP               | type: Cluster\\xffIP          | is not valid UTF-8
      """)
  void validatorRefusesABrokenManifest(String what, String file, String from, String to, String expected,
                                       @TempDir Path copy) throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    // Bytes as ISO-8859-1 characters, one for one, so a case can write any byte.
    Path target = copy.resolve(file);
    String original = Files.readString(target, StandardCharsets.ISO_8859_1);
    String broken = original.replace(bytes(from), bytes(to));
    assertThat(broken).as("the %s case changes %s", what, file).isNotEqualTo(original);
    Files.writeString(target, broken, StandardCharsets.ISO_8859_1);

    NodeTools.Result r = NodeTools.node(120, VALIDATOR, copy.toString());

    assertThat(r.exitCode()).as("validator output: %s", r.output()).isEqualTo(1);
    assertThat(r.output()).contains(expected);
  }

  @Test
  void everyGatewayVariableIsAConfigurationKeyTheGatewayReads() throws IOException {
    Set<String> known = knownVariables();
    Set<String> named = new TreeSet<>();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.toList()) {
        Matcher m = VARIABLE.matcher(Files.readString(f));
        while (m.find()) {
          named.add(m.group());
        }
      }
    }
    assertThat(known).as("sanity: the derivation finds the documented keys")
        .contains("GATEWAY_HTTP_PORT", "GATEWAY_DELIVERY_STOP_GRACE", "GATEWAY_PG_URL");
    assertThat(named).isNotEmpty();
    assertThat(known).as("GATEWAY_* names in deploy/kubernetes").containsAll(named);

    // The gateway really reads each variable the pod gets: a value it cannot use is refused, by name.
    Map<String, String> podEnv = podEnvironment();
    assertThat(podEnv.keySet()).containsAll(secretVariables());
    JsonObject file = new JsonObject(Files.readString(Path.of("config", "gateway.json")));
    for (String variable : podEnv.keySet()) {
      if (variable.equals("GATEWAY_CONFIG")) {
        assertThatThrownBy(() -> GatewayConfig.load(Map.of(variable, "/no/such/gateway.json")))
            .isInstanceOf(ConfigException.class).hasMessageContaining(variable);
      } else {
        assertThatThrownBy(() -> GatewayConfig.from(file, Map.of(variable, "x")))
            .as(variable).isInstanceOf(ConfigException.class).hasMessageContaining(variable);
      }
    }
    // ... and accepts the values the manifests give.
    GatewayConfig config = GatewayConfig.from(file, podEnv);
    assertThat(config.embeddedPostgres()).isFalse();
    assertThat(config.embeddedRedis()).isFalse();
  }

  @Test
  void probesMetricsAndPortsMatchTheGateway() {
    JsonObject container = container();
    assertThat(reply(container.getJsonObject("readinessProbe")).status()).isEqualTo(200);
    assertThat(reply(container.getJsonObject("livenessProbe")).status()).isEqualTo(200);
    assertThat(reply(container.getJsonObject("startupProbe")).status()).isEqualTo(200);
    assertThat(container.getJsonObject("readinessProbe").getJsonObject("httpGet").getString("path")).isEqualTo("/health/ready");
    assertThat(container.getJsonObject("livenessProbe").getJsonObject("httpGet").getString("path")).isEqualTo("/health/live");

    JsonObject endpoint = documents.get("ServiceMonitor").getJsonObject("spec").getJsonArray("endpoints").getJsonObject(0);
    Reply metrics = gateway.client().get(endpoint.getString("path"));
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body()).contains("jvm_memory_used_bytes");

    // The container port is the one the gateway listens on with the pod's configuration, and the Dockerfile's.
    JsonObject port = container.getJsonArray("ports").getJsonObject(0);
    GatewayConfig config = GatewayConfig.from(new JsonObject(), podEnvironment());
    assertThat(port.getInteger("containerPort")).isEqualTo(config.httpPort()).isEqualTo(dockerfile("EXPOSE (\\d+)").map(Integer::valueOf).findFirst().orElseThrow());
    for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
      assertThat(container.getJsonObject(probe).getJsonObject("httpGet").getValue("port")).isEqualTo(port.getString("name"));
    }
    JsonObject servicePort = documents.get("Service").getJsonObject("spec").getJsonArray("ports").getJsonObject(0);
    assertThat(servicePort.getValue("targetPort")).isEqualTo(port.getString("name"));
    assertThat(endpoint.getString("port")).isEqualTo(servicePort.getString("name"));
  }

  @Test
  void selectorsAndReferencesLineUp() throws IOException {
    JsonObject deployment = documents.get("Deployment");
    JsonObject podLabels = deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("metadata").getJsonObject("labels");
    List<JsonObject> selectors = List.of(
        deployment.getJsonObject("spec").getJsonObject("selector").getJsonObject("matchLabels"),
        documents.get("Service").getJsonObject("spec").getJsonObject("selector"),
        documents.get("PodDisruptionBudget").getJsonObject("spec").getJsonObject("selector").getJsonObject("matchLabels"));
    for (JsonObject selector : selectors) {
      assertThat(podLabels.getMap()).containsAllEntriesOf(selector.getMap());
    }
    JsonObject serviceLabels = documents.get("Service").getJsonObject("metadata").getJsonObject("labels");
    assertThat(serviceLabels.getMap()).containsAllEntriesOf(
        documents.get("ServiceMonitor").getJsonObject("spec").getJsonObject("selector").getJsonObject("matchLabels").getMap());

    String name = deployment.getJsonObject("metadata").getString("name");
    JsonObject target = documents.get("HorizontalPodAutoscaler").getJsonObject("spec").getJsonObject("scaleTargetRef");
    assertThat(target.getString("kind")).isEqualTo("Deployment");
    assertThat(target.getString("name")).isEqualTo(name);
    assertThat(deployment.getJsonObject("spec").containsKey("replicas")).as("the autoscaler owns replicas").isFalse();
    assertThat(container().getJsonArray("envFrom").getJsonObject(0).getJsonObject("configMapRef").getString("name"))
        .isEqualTo(documents.get("ConfigMap").getJsonObject("metadata").getString("name"));
    assertThat(deployment.getJsonObject("spec").getJsonObject("template").getJsonObject("spec").getString("serviceAccountName"))
        .isEqualTo(documents.get("ServiceAccount").getJsonObject("metadata").getString("name"));

    // Prometheus names the job after the Service; the GatewayDown alert watches that job.
    Matcher job = Pattern.compile("up\\{job=\"([^\"]+)\"}").matcher(Files.readString(Path.of("config", "prometheus", "alerts.yml")));
    assertThat(job.find()).isTrue();
    assertThat(documents.get("Service").getJsonObject("metadata").getString("name")).isEqualTo(job.group(1));
  }

  @Test
  void podRunsAsTheImageUserOnAReadOnlyRootWithTheImagePaths() {
    JsonObject podSecurity = podSpec().getJsonObject("securityContext");
    String user = dockerfile("USER (\\S+)").reduce((a, b) -> b).orElseThrow();
    assertThat(user).as("a numeric user, so runAsNonRoot can be enforced").matches("\\d+:\\d+");
    assertThat(podSecurity.getBoolean("runAsNonRoot")).isTrue();
    assertThat(podSecurity.getInteger("runAsUser") + ":" + podSecurity.getInteger("runAsGroup")).isEqualTo(user);

    JsonObject security = container().getJsonObject("securityContext");
    assertThat(security.getBoolean("readOnlyRootFilesystem")).isTrue();
    assertThat(security.getBoolean("allowPrivilegeEscalation")).isFalse();
    // The JVM, Netty's native library and Vert.x's file cache write under /tmp: it must be a volume.
    assertThat(container().getJsonArray("volumeMounts").stream().map(m -> ((JsonObject) m).getString("mountPath")))
        .contains("/tmp");

    // GATEWAY_CONFIG names the file the Dockerfile puts in the image.
    String configDir = dockerfile("COPY config (\\S+)").findFirst().orElseThrow();
    assertThat(podEnvironment().get("GATEWAY_CONFIG")).isEqualTo(configDir + "/gateway.json");
    // The heap follows the container's memory limit, and SIGTERM reaches java itself (exec).
    assertThat(dockerfile("ENV JAVA_OPTS=\"(.*)\"").findFirst().orElseThrow()).contains("-XX:MaxRAMPercentage=");
    assertThat(container().getJsonObject("resources").getJsonObject("limits").getString("memory")).isNotBlank();
    assertThat(dockerfile("ENTRYPOINT (.*)").findFirst().orElseThrow()).contains("exec java $JAVA_OPTS");
  }

  @Test
  void stopBudgetCoversThePreStopPauseAndTheGracefulStop() {
    List<String> preStop = container().getJsonObject("lifecycle").getJsonObject("preStop").getJsonObject("exec")
        .getJsonArray("command").stream().map(String::valueOf).toList();
    assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
    Duration pause = Duration.ofSeconds(Long.parseLong(preStop.get(1)));
    assertThat(pause).isPositive();
    Duration stopGrace = GatewayConfig.from(new JsonObject(), podEnvironment()).delivery().stopGrace();
    Duration budget = Duration.ofSeconds(podSpec().getLong("terminationGracePeriodSeconds"));
    // Even with HTTP shutdown and delivery grace one after the other, with room to close the pools.
    assertThat(budget).isGreaterThan(pause.plus(HTTP_SHUTDOWN_BOUND).plus(stopGrace).plusSeconds(5));
  }

  /** GATEWAY_* keys: config/gateway.json's keys in GatewayConfig's env naming, and the ones the file never holds. */
  private static Set<String> knownVariables() throws IOException {
    Set<String> known = new TreeSet<>(Set.of("GATEWAY_PG_URL", "GATEWAY_REDIS_URL", "GATEWAY_ADMIN_TOKEN", "GATEWAY_CONFIG"));
    for (String key : new JsonObject(Files.readString(Path.of("config", "gateway.json"))).fieldNames()) {
      known.add("GATEWAY_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase());
    }
    return known;
  }

  private static Set<String> secretVariables() {
    return container().getJsonArray("env").stream().map(e -> (JsonObject) e)
        .filter(e -> e.getJsonObject("valueFrom") != null && e.getJsonObject("valueFrom").containsKey("secretKeyRef"))
        .map(e -> e.getString("name")).collect(Collectors.toSet());
  }

  /** The pod's GATEWAY_* environment: the ConfigMap, plus well-formed stand-ins for the Secret's values. */
  private static Map<String, String> podEnvironment() {
    Map<String, String> env = new HashMap<>();
    documents.get("ConfigMap").getJsonObject("data").forEach(e -> env.put(e.getKey(), String.valueOf(e.getValue())));
    Map<String, String> secrets = Map.of(
        "GATEWAY_PG_URL", "postgresql://gateway:pw@postgres:5432/gateway",
        "GATEWAY_REDIS_URL", "redis://redis:6379/0",
        "GATEWAY_ADMIN_TOKEN", "an-admin-token-of-enough-length");
    assertThat(secrets.keySet()).isEqualTo(secretVariables());
    env.putAll(secrets);
    return env;
  }

  private static JsonObject podSpec() {
    return documents.get("Deployment").getJsonObject("spec").getJsonObject("template").getJsonObject("spec");
  }

  private static JsonObject container() {
    return podSpec().getJsonArray("containers").getJsonObject(0);
  }

  private static Reply reply(JsonObject probe) {
    return gateway.client().get(probe.getJsonObject("httpGet").getString("path"));
  }

  /** The first group of each line of the Dockerfile's run stage matching {@code regex}. */
  private static Stream<String> dockerfile(String regex) {
    try {
      String text = Files.readString(Path.of("Dockerfile"));
      String runStage = text.substring(text.lastIndexOf("\nFROM "));
      Matcher m = Pattern.compile("^" + regex + "$", Pattern.MULTILINE).matcher(runStage);
      Stream.Builder<String> out = Stream.builder();
      while (m.find()) {
        out.add(m.group(1));
      }
      return out.build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A case's text with {@code \\n}, {@code \\0} and {@code \\xff} written out as those bytes. */
  private static String bytes(String s) {
    return s.replace("\\n", "\n").replace("\\0", "\0").replace("\\xff", "\u00ff");
  }
}
