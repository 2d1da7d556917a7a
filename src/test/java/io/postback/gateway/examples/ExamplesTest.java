package io.postback.gateway.examples;

import io.postback.gateway.delivery.WebhookSigner;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.NodeTools;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The signing and verifying examples of examples/, run the way merchants and integrators run them
 * (their interpreter, settings from environment variables) against a real gateway. An example is
 * skipped only where its interpreter is missing and CI is not set ({@link NodeTools#requireTool}).
 */
class ExamplesTest {
  private static final Path EXAMPLES = Path.of("examples").toAbsolutePath();
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  /** An order id with what JSON must escape, non-ASCII (a surrogate pair too) and separators. */
  private static final String HOSTILE_ID = " \"quoted\" \\ é ✓ 😀 ;&%3B <b>/";
  private static final Pattern ANSWER = Pattern.compile("^(\\d{3}) (\\{.*})$", Pattern.MULTILINE);

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  /** Merchant side: one signed postback from settings in the environment. */
  enum Signer {
    NODE("postback/node", "node", "postback.js"),
    PYTHON("postback/python", "python3", "postback.py"),
    PHP("postback/php", "php", "postback.php"),
    GO("postback/go", "go", "run", "postback.go"),
    JAVA("postback/java", ExamplesTest.JAVA, "PostbackExample.java"),
    RUBY("postback/ruby", "ruby", "postback.rb"),
    CURL("postback/curl", "bash", "postback.sh");

    final String dir;
    final String[] command;

    Signer(String dir, String... command) {
      this.dir = dir;
      this.command = command;
    }
  }

  /** Integrator side: an HTTP receiver on $PORT verifying with $WEBHOOK_SECRET. */
  enum Verifier {
    NODE("webhooks/node", "node", "receiver.js"),
    PYTHON("webhooks/python", "python3", "receiver.py"),
    PHP("webhooks/php", "php", "-S", "0.0.0.0:{port}", "receiver.php"),
    GO("webhooks/go", "{built}"),
    JAVA("webhooks/java", ExamplesTest.JAVA, "WebhookReceiver.java");

    final String dir;
    final String[] command;

    Verifier(String dir, String... command) {
      this.dir = dir;
      this.command = command;
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Signer.class)
  void signingExamplePostsAConversionTheGatewayRecords(Signer signer) {
    requireInterpreter(signer.name());
    GatewayClient.TestSurface surface = gateway.client().createSurface();
    String externalId = "order-" + signer.name().toLowerCase() + "-" + System.nanoTime() + HOSTILE_ID;
    Map<String, String> env = new HashMap<>(Map.of(
        "GATEWAY_URL", "http://127.0.0.1:" + gateway.port(),
        "SURFACE_ID", surface.id(),
        "SURFACE_SECRET", surface.secret(),
        "EXTERNAL_ID", externalId));

    JsonObject first = answer(run(signer.dir, env, signer.command), 200);
    assertThat(first.getBoolean("duplicate")).isFalse();
    String conversionId = first.getString("conversionId");
    assertThat(storedExternalId(conversionId, surface.id())).as("the id as stored").isEqualTo(externalId);

    // A wrong secret is refused, and the example says so in its output and exit code.
    env.put("SURFACE_SECRET", surface.secret() + "x");
    env.put("EXTERNAL_ID", externalId + "-forged");
    Run forged = run(signer.dir, env, signer.command);
    assertThat(forged.exitCode()).as(forged.output()).isNotZero();
    assertThat(new JsonObject(answerLine(forged, 401)).getString("error")).isEqualTo("bad_signature");
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id())).isEqualTo(1);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Verifier.class)
  void verifierAcceptsTheGatewaysDeliveryAndRefusesTamperedOnes(Verifier verifier) throws Exception {
    requireInterpreter(verifier.name());
    int port = freePort();
    Reply created = gateway.client().admin("POST", "/admin/webhook-endpoints", new JsonObject()
        .put("url", "http://127.0.0.1:" + port + "/hooks").put("eventTypes", new JsonArray().add("endpoint.test")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String endpointId = created.json().getString("id");
    String secret = created.json().getString("secret");
    try (Receiver receiver = Receiver.start(verifier, port, secret)) {
      Reply test = gateway.client().admin("POST", "/admin/webhook-endpoints/" + endpointId + "/test", null);
      assertThat(test.status()).isEqualTo(202);
      String eventId = test.json().getString("eventId");
      Await.until("the receiver verifies " + eventId, Duration.ofSeconds(30),
          () -> receiver.output().contains("verified " + eventId));
      Await.until("the gateway records a 2xx attempt", Duration.ofSeconds(30), () -> {
        JsonArray attempts = gateway.client().admin("GET", "/admin/webhook-endpoints/" + endpointId + "/attempts", null)
            .json().getJsonArray("items");
        return !attempts.isEmpty() && "success".equals(attempts.getJsonObject(0).getString("outcome"))
            && attempts.getJsonObject(0).getInteger("statusCode") / 100 == 2;
      });

      byte[] key = WebhookSigner.key(secret);
      byte[] otherKey = WebhookSigner.key(WebhookSigner.newSecret());
      long now = Instant.now().getEpochSecond();
      // The test's own signing is accepted: the refusals below are refusals of the change alone.
      assertThat(receiver.deliver(signed(key, "msg_genuine", now, body("msg_genuine")))).isBetween(200, 299);
      int verified = receiver.verifiedCount();

      Delivery genuine = signed(key, "msg_tampered", now, body("msg_tampered"));
      assertRefused(receiver, verified, "tampered body",
          new Delivery(genuine.id(), genuine.timestamp(), genuine.signature(), genuine.body().replace("\"data\":{", "\"data\":{\"grossMinor\":1,")));
      Delivery other = signed(key, "msg_signed", now, body("msg_signed"));
      assertRefused(receiver, verified, "webhook-id swapped",
          new Delivery("msg_swapped", other.timestamp(), other.signature(), other.body()));
      assertRefused(receiver, verified, "timestamp 6 minutes old", signed(key, "msg_old", now - 360, body("msg_old")));
      assertRefused(receiver, verified, "timestamp 6 minutes ahead", signed(key, "msg_ahead", now + 360, body("msg_ahead")));
      assertRefused(receiver, verified, "another secret", signed(otherKey, "msg_other_key", now, body("msg_other_key")));
      Delivery garbage = signed(key, "msg_garbage", now, body("msg_garbage"));
      assertRefused(receiver, verified, "garbage signature",
          new Delivery(garbage.id(), garbage.timestamp(), "v1,!!!not-base64\u00e9", garbage.body()));
      assertRefused(receiver, verified, "no signature", new Delivery(garbage.id(), garbage.timestamp(), null, garbage.body()));
      assertRefused(receiver, verified, "timestamp not a number",
          new Delivery(garbage.id(), "a" + garbage.timestamp(), garbage.signature(), garbage.body()));

      // Secret rotation: the header lists one signature per secret; any one matching is enough.
      Delivery rotated = signed(key, "msg_rotated", now, body("msg_rotated"));
      String both = WebhookSigner.sign(otherKey, rotated.id(), now, Buffer.buffer(rotated.body())) + " " + rotated.signature();
      assertThat(receiver.deliver(new Delivery(rotated.id(), rotated.timestamp(), both, rotated.body()))).isBetween(200, 299);
      assertThat(receiver.output()).contains("verified msg_genuine", "verified msg_rotated");
      assertThat(receiver.verifiedCount()).isEqualTo(verified + 1);
    } finally {
      gateway.client().admin("DELETE", "/admin/webhook-endpoints/" + endpointId, null);
    }
  }

  private static void assertRefused(Receiver receiver, int verifiedBefore, String what, Delivery delivery) throws IOException {
    assertThat(receiver.deliver(delivery)).as(what).isBetween(400, 499);
    assertThat(receiver.verifiedCount()).as("nothing printed as verified after: " + what).isEqualTo(verifiedBefore);
  }

  /** A delivery as the gateway sends it: webhook-id, webhook-timestamp, webhook-signature, body. */
  private record Delivery(String id, String timestamp, String signature, String body) {
  }

  private static Delivery signed(byte[] key, String id, long timestamp, String body) {
    return new Delivery(id, Long.toString(timestamp), WebhookSigner.sign(key, id, timestamp, Buffer.buffer(body)), body);
  }

  private static String body(String id) {
    return new JsonObject().put("id", id).put("event", "endpoint.test").put("timestamp", Instant.now().toString())
        .put("data", new JsonObject().put("message", "é ✓ 😀")).encode();
  }

  /** A receiver example, running until closed. */
  private static final class Receiver implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final int port;

    private Receiver(Process process, Path log, int port) {
      this.process = process;
      this.log = log;
      this.port = port;
    }

    static Receiver start(Verifier verifier, int port, String secret) throws IOException {
      Path dir = EXAMPLES.resolve(verifier.dir);
      List<String> command = new ArrayList<>();
      for (String part : verifier.command) {
        command.add(part.equals("{built}") ? goBuild(dir, "receiver.go") : part.replace("{port}", String.valueOf(port)));
      }
      Path log = Files.createTempFile("example-receiver", ".log");
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(toolEnvironment());
      builder.environment().put("PORT", String.valueOf(port));
      builder.environment().put("WEBHOOK_SECRET", secret);
      Receiver receiver = new Receiver(builder.start(), log, port);
      Await.until(verifier + " receiver listening on " + port + " (output: " + receiver.output() + ")",
          Duration.ofSeconds(90), () -> {
            if (!receiver.process.isAlive()) {
              throw new AssertionError(verifier + " receiver exited: " + receiver.output());
            }
            return receiver.listening();
          });
      return receiver;
    }

    private boolean listening() {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    String output() {
      try {
        return Files.readString(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    int verifiedCount() {
      return (int) output().lines().filter(l -> l.startsWith("verified ")).count();
    }

    /**
     * Sends a delivery straight to the receiver, on a connection of its own (some receivers answer
     * HTTP/1.0 and close; a pooled connection would race that close); returns the status it answers.
     */
    int deliver(Delivery d) throws IOException {
      byte[] body = d.body().getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder("POST /hooks HTTP/1.1\r\nhost: 127.0.0.1:" + port + "\r\n")
          .append("connection: close\r\ncontent-type: application/json\r\n")
          .append("content-length: ").append(body.length).append("\r\n")
          .append("webhook-id: ").append(d.id()).append("\r\n")
          .append("webhook-timestamp: ").append(d.timestamp()).append("\r\n");
      if (d.signature() != null) {
        head.append("webhook-signature: ").append(d.signature()).append("\r\n");
      }
      int status;
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().write(body);
        socket.getOutputStream().flush();
        String statusLine = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1)).readLine();
        assertThat(statusLine).as("status line").matches("HTTP/1\\.[01] \\d{3}.*");
        status = Integer.parseInt(statusLine.substring(9, 12));
      }
      if (status / 100 == 2) {
        String line = "verified " + d.id();
        Await.until("the receiver prints " + line, Duration.ofSeconds(10), () -> output().contains(line));
      } else {
        sleep(100); // a wrongly printed "verified" line would show in the count
      }
      return status;
    }

    @Override
    public void close() throws InterruptedException {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  /** What a command printed (stdout and stderr) and its exit code. */
  private record Run(int exitCode, String output) {
  }

  private static Run run(String exampleDir, Map<String, String> env, String... command) {
    try {
      Path out = Files.createTempFile("example", ".out");
      ProcessBuilder builder = new ProcessBuilder(command).directory(EXAMPLES.resolve(exampleDir).toFile())
          .redirectErrorStream(true).redirectOutput(out.toFile());
      builder.environment().putAll(toolEnvironment());
      builder.environment().putAll(env);
      Process p = builder.start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError("timed out: " + String.join(" ", command));
      }
      String output = Files.readString(out, StandardCharsets.UTF_8);
      Files.deleteIfExists(out);
      return new Run(p.exitValue(), output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The JSON of the example's "<status> <json>" line, which must carry {@code status}. */
  private static JsonObject answer(Run run, int status) {
    assertThat(run.exitCode()).as(run.output()).isZero();
    return new JsonObject(answerLine(run, status));
  }

  private static String answerLine(Run run, int status) {
    Matcher m = ANSWER.matcher(run.output());
    assertThat(m.find()).as("a '<status> <json>' line in: %s", run.output()).isTrue();
    assertThat(Integer.parseInt(m.group(1))).as(run.output()).isEqualTo(status);
    return m.group(2);
  }

  private static String storedExternalId(String conversionId, String surfaceId) {
    try (Connection c = TestBackends.jdbc();
         PreparedStatement st = c.prepareStatement("SELECT external_id FROM conversions WHERE id = ? AND surface_id = ?")) {
      st.setString(1, conversionId);
      st.setString(2, surfaceId);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Skips (or on CI fails) when the example's interpreter is missing. */
  private static void requireInterpreter(String language) {
    switch (language) {
      case "NODE" -> {
        NodeTools.require(); // node itself, and standardwebhooks for the receiver
      }
      case "PYTHON" -> NodeTools.requireTool(runs("python3", "--version"), "python3");
      case "PHP" -> NodeTools.requireTool(runs("php", "-r", "exit(extension_loaded('curl') ? 0 : 1);"),
          "php with the curl extension (Debian: php-cli php-curl)");
      case "GO" -> NodeTools.requireTool(runs("go", "version"), "go (Debian: golang-go)");
      case "RUBY" -> NodeTools.requireTool(runs("ruby", "--version"), "ruby");
      case "CURL" -> NodeTools.requireTool(runs("bash", "-c", "command -v curl && command -v openssl && command -v jq"),
          "bash, curl, openssl and jq");
      case "JAVA" -> {
        // the JVM running this test
      }
      default -> throw new IllegalArgumentException(language);
    }
  }

  private static boolean runs(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Builds a Go example once into target/ (a receiver must be a process we can stop, not `go run`'s child). */
  private static String goBuild(Path dir, String file) {
    Path binary = Path.of("target", "examples", "go-" + file.replace(".go", "")).toAbsolutePath();
    try {
      Files.createDirectories(binary.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Run build = run(EXAMPLES.relativize(dir).toString(), Map.of(), "go", "build", "-o", binary.toString(), file);
    assertThat(build.exitCode()).as("go build: %s", build.output()).isZero();
    return binary.toString();
  }

  /**
   * The tools' environment: NODE_PATH finds the packages of tools/node (standardwebhooks); Go keeps
   * its build cache under target/ when the user's cache directory is not writable (CI users, containers).
   */
  private static Map<String, String> toolEnvironment() {
    Map<String, String> env = new HashMap<>();
    env.put("NODE_PATH", NodeTools.DIR.resolve("node_modules").toString());
    // The Java examples are short-lived single-file programs: C1 only compiles them 2-3x faster.
    env.put("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    if (System.getenv("GOCACHE") == null) {
      String xdg = System.getenv("XDG_CACHE_HOME");
      Path cache = xdg != null ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
      Path existing = Files.exists(cache) ? cache : cache.getParent();
      if (existing == null || !Files.isWritable(existing)) {
        Path go = Path.of("target", "go").toAbsolutePath();
        env.put("GOCACHE", go.resolve("cache").toString());
        env.put("GOPATH", go.resolve("path").toString());
      }
    }
    return env;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
