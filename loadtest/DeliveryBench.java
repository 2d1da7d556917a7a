import io.postback.gateway.embedded.EmbeddedPostgresServer;
import io.postback.gateway.embedded.EmbeddedRedisServer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Outbound webhook delivery benchmark: deliveries per second from the outbox to a local receiver.
 *
 * <p>Starts its own Postgres and Redis (embedded, in a temp dir: nothing shared with the machine's
 * servers), the gateway as a separate process (java -Xmx256m -jar target/postback-gateway.jar), and
 * a receiver on 127.0.0.1 that answers 204. Registers ENDPOINTS endpoints, writes EVENTS outbox
 * events in one statement, and measures until every delivery is recorded as succeeded in Postgres.
 * Then checks that nothing was lost (succeeded == events x endpoints, every (event, endpoint) reached
 * the receiver) and counts duplicates. Run with loadtest/delivery.sh.
 */
public final class DeliveryBench {
  public static void main(String[] args) throws Exception {
    int events = Integer.parseInt(env("EVENTS", "25000"));
    int endpoints = Integer.parseInt(env("ENDPOINTS", "4"));
    String jar = env("GATEWAY_JAR", "target/postback-gateway.jar");
    String javaOpts = env("GATEWAY_JAVA_OPTS", "-Xmx256m");
    int receiverLoops = Integer.parseInt(env("RECEIVER_THREADS", "1"));
    long expected = (long) events * endpoints;

    Path dir = Files.createTempDirectory("delivery-bench");
    EmbeddedPostgresServer pg = new EmbeddedPostgresServer(dir.resolve("pg")).start();
    EmbeddedRedisServer redis = new EmbeddedRedisServer(null).start();
    int port = freePort();
    String token = "bench-admin-token-0123456789";

    // The receiver: counts every request by path and webhook-id, answers 204 at once.
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(receiverLoops));
    AtomicLong received = new AtomicLong();
    Set<String> seen = ConcurrentHashMap.newKeySet();
    AtomicLong duplicates = new AtomicLong();
    AtomicLong firstAt = new AtomicLong();
    AtomicLong lastAt = new AtomicLong();
    int receiverPort = freePort();
    vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        return vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true)).requestHandler(req -> req.end()
            .onComplete(x -> {
              long now = System.nanoTime();
              firstAt.compareAndSet(0, now);
              lastAt.set(now);
              received.incrementAndGet();
              if (!seen.add(req.path() + ' ' + req.getHeader("webhook-id"))) {
                duplicates.incrementAndGet();
              }
            })
            .onComplete(x -> req.response().setStatusCode(204).end())).listen(receiverPort, "127.0.0.1");
      }
    }, new DeploymentOptions().setInstances(receiverLoops)).await(10, TimeUnit.SECONDS);

    List<String> command = new ArrayList<>();
    command.add("java");
    command.addAll(List.of(javaOpts.trim().split("\\s+")));
    command.addAll(List.of("-jar", jar));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("gateway.log").toFile());
    Map<String, String> genv = pb.environment();
    genv.put("GATEWAY_PG_URL", pg.url());
    genv.put("GATEWAY_REDIS_URL", redis.url());
    genv.put("GATEWAY_ADMIN_TOKEN", token);
    genv.put("GATEWAY_HTTP_PORT", String.valueOf(port));
    genv.put("GATEWAY_ALLOW_PRIVATE_DESTINATIONS", "true");
    genv.put("GATEWAY_DEMO_SURFACE", "false");
    genv.putIfAbsent("GATEWAY_DELIVERY_INSTANCES", env("GATEWAY_DELIVERY_INSTANCES", "2"));
    Process gateway = pb.start();
    System.out.println("gateway log: " + dir.resolve("gateway.log"));
    try {
      HttpClient http = HttpClient.newHttpClient();
      waitReady(http, port);
      for (int i = 0; i < endpoints; i++) {
        JsonObject body = new JsonObject().put("url", "http://127.0.0.1:" + receiverPort + "/hook/" + i)
            .put("eventTypes", new JsonArray().add("bench.event"));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/webhook-endpoints"))
            .header("authorization", "Bearer " + token).header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
          throw new IllegalStateException("endpoint registration failed: " + r.body());
        }
      }
      try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres", "postgres", "")) {
        long t0 = System.nanoTime();
        try (Statement st = c.createStatement()) {
          st.execute("INSERT INTO events (id, type, data) SELECT 'evt_bench_' || g, 'bench.event', "
              + "jsonb_build_object('n', g, 'conversionId', 'cv_' || g, 'grossMinor', 4999, 'currency', 'USD') "
              + "FROM generate_series(1, " + events + ") g");
        }
        System.out.printf("wrote %,d events for %d endpoints (%,d deliveries) in %.2f s%n", events, endpoints, expected,
            (System.nanoTime() - t0) / 1e9);
        long succeeded = 0;
        long fannedOutAt = 0;
        long succeededAtFanOut = 0;
        long lastReport = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (succeeded < expected && System.nanoTime() < deadline) {
          Thread.sleep(200);
          succeeded = count(c, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'");
          if (fannedOutAt == 0 && count(c, "SELECT count(*) FROM events WHERE NOT fanned_out") == 0) {
            fannedOutAt = System.nanoTime();
            succeededAtFanOut = succeeded;
          }
          if (System.nanoTime() - lastReport > 5e9) {
            lastReport = System.nanoTime();
            System.out.printf("  %.0f s: %,d succeeded, %,d received%n", (lastReport - t0) / 1e9, succeeded, received.get());
          }
        }
        long tDone = System.nanoTime();
        double seconds = (tDone - t0) / 1e9;
        double receiveSeconds = (lastAt.get() - firstAt.get()) / 1e9;
        long pending = count(c, "SELECT count(*) FROM deliveries WHERE status = 'pending'");
        long dead = count(c, "SELECT count(*) FROM deliveries WHERE status = 'dead'");
        long attempts = count(c, "SELECT count(*) FROM delivery_attempts");
        long schedule = Long.parseLong(redisCount(redis.port(), "{gw:dlv}:schedule"));
        long leased = Long.parseLong(redisCount(redis.port(), "{gw:dlv}:leased"));
        System.out.println();
        System.out.printf("events                 %,d x %d endpoints = %,d deliveries%n", events, endpoints, expected);
        System.out.printf("succeeded (Postgres)   %,d   pending %,d   dead %,d   attempts %,d%n", succeeded, pending, dead, attempts);
        System.out.printf("received               %,d   distinct (event, endpoint) %,d   duplicates %,d%n", received.get(),
            seen.size(), duplicates.get());
        System.out.printf("redis after drain      schedule %d   leased %d%n", schedule, leased);
        System.out.printf("fan-out done after     %.2f s (%,d succeeded by then)%n", (fannedOutAt - t0) / 1e9, succeededAtFanOut);
        System.out.printf("after fan-out          %,.0f deliveries/s (claim, send, record only)%n",
            (succeeded - succeededAtFanOut) / ((tDone - fannedOutAt) / 1e9));
        System.out.printf("outbox -> all recorded %.2f s = %,.0f deliveries/s%n", seconds, expected / seconds);
        System.out.printf("receiver first -> last %.2f s = %,.0f deliveries/s%n", receiveSeconds, received.get() / receiveSeconds);
        boolean ok = succeeded == expected && seen.size() == expected && schedule == 0 && leased == 0;
        System.out.println(ok ? "RESULT ok: queue drained, none lost" : "RESULT FAILED: deliveries missing or queue not drained");
        if (!ok) {
          System.exit(1);
        }
      }
    } finally {
      gateway.destroy();
      gateway.waitFor(30, TimeUnit.SECONDS);
      vertx.close();
      redis.stop();
      pg.close();
    }
  }

  private static int freePort() throws Exception {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static long count(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String redisCount(int port, String key) throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      String cmd = "*2\r\n$5\r\nZCARD\r\n$" + key.length() + "\r\n" + key + "\r\n";
      s.getOutputStream().write(cmd.getBytes());
      String line = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream())).readLine();
      return line.substring(1);
    }
  }

  private static void waitReady(HttpClient http, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // starting
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("gateway not ready within 90 s");
  }

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : v;
  }
}
