package io.postback.gateway.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.RunningGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** Structured logs with a request id, and never a secret, signature or token in them (SPEC §8). */
class LoggingTest {
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private AppenderBase<ILoggingEvent> capture;
  private Level accessLevel;

  @BeforeEach
  void captureLogs() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.start();
    capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        lines.add(new String(encoder.encode(event), StandardCharsets.UTF_8));
      }
    };
    capture.setContext(context);
    capture.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(capture);
    Logger access = context.getLogger("access");
    accessLevel = access.getLevel();
    access.setLevel(Level.INFO);
  }

  @AfterEach
  void release() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(capture);
    context.getLogger("access").setLevel(accessLevel);
  }

  @Test
  void noSecretSignatureOrTokenEverReachesTheLogs() throws Exception {
    try (RunningGateway gateway = RunningGateway.start()) {
      GatewayClient client = gateway.client();
      GatewayClient.TestSurface surface = client.createSurface();
      Reply rotated = client.admin("POST", "/admin/surfaces/" + surface.id() + "/secrets", new JsonObject());
      String newSecret = rotated.json().getString("secret");
      String body = "{\"externalId\":\"log-1\",\"eventType\":\"signup\"}";
      String ts = String.valueOf(System.currentTimeMillis());
      String goodSignature = GatewayClient.sign(newSecret, ts, body);
      client.raw("/v1/conversions", surface.id(), ts, goodSignature, "application/json", body);
      String badSignature = GatewayClient.sign("pbs_wrong", ts, body);
      client.raw("/v1/conversions", surface.id(), ts, badSignature, "application/json", body);
      client.raw("/v1/conversions", surface.id(), ts, goodSignature, "application/json", "{broken");
      // Postgres down: the failure is logged, still without secrets.
      TestBackends.postgres().stop();
      try {
        client.postback(new GatewayClient.TestSurface(surface.id(), newSecret), "{\"externalId\":\"log-2\",\"eventType\":\"signup\"}");
      } finally {
        TestBackends.postgres().start();
      }
      Thread.sleep(300);
    }

    assertThat(lines).isNotEmpty();
    String all = String.join("\n", lines);
    assertThat(all).doesNotContain("pbs_").doesNotContain(TestBackends.ADMIN_TOKEN);
    assertThat(lines).noneMatch(l -> l.matches("(?s).*[0-9a-f]{64}.*"));
  }

  @Test
  void everyRequestGetsAnIdEchoedAndOneAccessLine() throws Exception {
    try (RunningGateway gateway = RunningGateway.start()) {
      HttpResponse<String> given = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/health/live"))
              .header("x-request-id", "merchant-trace-42").GET().build(), HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> generated = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/health/live")).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(given.headers().firstValue("x-request-id")).hasValue("merchant-trace-42");
      assertThat(generated.headers().firstValue("x-request-id")).hasValueSatisfying(id -> assertThat(id).startsWith("req_"));
      Thread.sleep(200);
    }
    List<JsonObject> access = lines.stream().map(JsonObject::new)
        .filter(j -> "access".equals(j.getString("logger_name"))).toList();
    assertThat(access).anySatisfy(j -> {
      assertThat(j.getString("requestId")).isEqualTo("merchant-trace-42");
      assertThat(j.getInteger("status")).isEqualTo(200);
      assertThat(j.getString("message")).isEqualTo("GET /health/live 200");
      assertThat(j.getDouble("latencyMs")).isNotNull();
      assertThat(j.getString("ip")).isEqualTo("127.0.0.1");
      assertThat(j.getMap()).as("no surface named: null, not left out").containsEntry("surface", null);
    });
  }

  @Test
  void aHostileQueryGetsItsAccessLineAndNoErrorLine() throws Exception {
    try (RunningGateway gateway = RunningGateway.start()) {
      Reply r = gateway.client().rawRequest(("GET /v1/postback?surface=x&txid=%zz HTTP/1.1\r\nhost: gw\r\n"
          + "x-request-id: hostile-query-1\r\n").getBytes(StandardCharsets.US_ASCII), new byte[0]);
      assertThat(r.status()).isEqualTo(400);
      Thread.sleep(200);
    }
    List<JsonObject> logged = lines.stream().map(JsonObject::new).toList();
    assertThat(logged).noneMatch(j -> "ERROR".equals(j.getString("level")));
    assertThat(logged).anySatisfy(j -> {
      assertThat(j.getString("logger_name")).isEqualTo("access");
      assertThat(j.getString("requestId")).isEqualTo("hostile-query-1");
      assertThat(j.getInteger("status")).isEqualTo(400);
    });
  }

  @Test
  void anUndecodablePathIsAJsonBadRequestAndNoErrorLine() throws Exception {
    try (RunningGateway gateway = RunningGateway.start()) {
      for (String path : new String[] {"/v1/track/%zz", "/c/%zz", "/v1/postback/%zz/x"}) {
        String method = path.startsWith("/v1/track") ? "POST" : "GET";
        Reply r = gateway.client().rawRequest((method + " " + path + " HTTP/1.1\r\nhost: gw\r\n")
            .getBytes(StandardCharsets.US_ASCII), new byte[0]);
        assertThat(r.status()).as(path).isEqualTo(400);
        assertThat(r.json().getString("error")).as(path).isEqualTo("malformed_request");
      }
      Thread.sleep(200);
    }
    assertThat(lines.stream().map(JsonObject::new)).noneMatch(j -> "ERROR".equals(j.getString("level")));
  }
}
