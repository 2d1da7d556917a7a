package io.postback.gateway.ops;

import io.postback.gateway.config.Backends;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real process, stopped with SIGTERM while postbacks are in flight: every 200 it gave is in
 * Postgres, and the merchant's retries of everything else land exactly once.
 */
class SigtermShutdownTest {

  @Test
  void sigtermUnderLoadLosesNoAcceptedConversion() throws Exception {
    Backends backends = TestBackends.get();
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile("gateway-sigterm", ".log");
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // The logging of production (buffered stdout behind a ring buffer), not the tests' console.
        "-Dlogback.configurationFile=" + new File("src/main/resources/logback.xml").getAbsolutePath(),
        "-cp", System.getProperty("java.class.path"),
        "io.postback.gateway.Main")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("GATEWAY_HTTP_PORT", String.valueOf(port));
    pb.environment().put("GATEWAY_PG_URL", backends.pgUrl());
    pb.environment().put("GATEWAY_REDIS_URL", backends.redisUrl());
    pb.environment().put("GATEWAY_ADMIN_TOKEN", backends.adminToken());
    pb.environment().put("GATEWAY_CONFIG", new File("config/gateway.json").getAbsolutePath());
    Process gateway = pb.start();
    GatewayClient client = new GatewayClient(port, java.time.Duration.ofSeconds(5));
    waitReady(client, gateway, log);

    GatewayClient.TestSurface surface = client.createSurface();
    int n = 600;
    List<CompletableFuture<Reply>> fires = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      fires.add(client.postbackAsync(surface, body(i)));
      if (i == n / 3) {
        gateway.destroy(); // SIGTERM
      }
    }
    assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).as("the process exits after SIGTERM").isTrue();
    // An operator reading the log sees the stop begin and end.
    assertThat(Files.readString(log)).contains("gateway stopping").contains("gateway stopped");

    List<String> acknowledged = new ArrayList<>();
    for (CompletableFuture<Reply> f : fires) {
      Reply r = f.handle((ok, err) -> ok).join();
      if (r != null && r.status() == 200) {
        acknowledged.add(r.json().getString("conversionId"));
      }
    }
    assertThat(acknowledged).as("some postbacks were accepted before the stop").isNotEmpty();
    // Standard output is written in batches: still every line whole, and none lost at the stop.
    List<JsonObject> accessLines = Files.readAllLines(log).stream().filter(l -> l.startsWith("{"))
        .map(JsonObject::new).filter(j -> "access".equals(j.getString("logger_name"))).toList();
    assertThat(accessLines.stream().filter(j -> j.getString("message").startsWith("POST /v1/conversions 200")).count())
        .as("an access line for every postback answered 200").isGreaterThanOrEqualTo(acknowledged.size());
    for (String id : acknowledged) {
      assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE id = ?", id)).isEqualTo(1);
    }

    try (RunningGateway restarted = RunningGateway.start()) {
      for (int i = 0; i < n; i++) {
        assertThat(restarted.client().postback(surface, body(i)).status()).isEqualTo(200);
      }
    }
    assertThat(TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ?", surface.id()))
        .isEqualTo(n);
  }

  private static String body(int i) {
    return "{\"externalId\":\"sig-" + i + "\",\"eventType\":\"sale\",\"grossMinor\":100,\"currency\":\"USD\"}";
  }

  private static void waitReady(GatewayClient client, Process process, Path log) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("gateway exited: " + Files.readString(log));
      }
      try {
        if (client.get("/health/ready").status() == 200) {
          return;
        }
      } catch (RuntimeException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("gateway not ready: " + Files.readString(log));
  }
}
