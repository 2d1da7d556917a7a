package io.postback.gateway.console;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.postback.gateway.support.Await;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.NodeTools;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.postback.gateway.support.WebhookReceiver;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console and the portal in a real browser (Debian's Chromium driven by playwright-core, see
 * src/test/node/console-browser.js) against a running gateway on real Postgres and Redis: sign in, watch the
 * overview move, find a refused postback's reason, open a failing endpoint, replay its dead letter to a real
 * receiver, and hold a portal link to its own surface. Screenshots of each page land in target/screenshots/.
 * Without Chromium the test skips with a message, except on CI where it fails.
 */
class ConsoleBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path SCRIPT = Path.of("src", "test", "node", "console-browser.js");
  static final Path SHOTS = Path.of("target", "screenshots");

  // One retry 100 ms after the first attempt: a failing receiver makes a dead letter in well under a second.
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway(Map.of(
      "GATEWAY_RETRY_SCHEDULE", "100ms",
      "GATEWAY_DELIVERY_POLL_INTERVAL", "20ms",
      "GATEWAY_QUEUE_DEPTH_INTERVAL", "200ms"));
  static final WebhookReceiver receiver = new WebhookReceiver();

  @AfterAll
  static void stopReceiver() {
    receiver.close();
  }

  @Test
  void operatorAndIntegratorUseTheConsoleAndPortalInARealBrowser() throws Exception {
    NodeTools.requireTool(Files.isExecutable(CHROMIUM), "Chromium (" + CHROMIUM + ", apt-get install chromium)");
    GatewayClient client = gateway.client();
    GatewayClient.TestSurface surface = client.createSurface();
    GatewayClient.TestSurface other = client.createSurface();
    AtomicBoolean receiverUp = new AtomicBoolean();
    receiver.behave("/failing", (n, r) -> WebhookReceiver.Answer.of(receiverUp.get() ? 204 : 500));
    String endpointUrl = receiver.url("/failing");
    String endpointId = endpoint(client, endpointUrl, surface.id());
    String otherUrl = receiver.url("/other-surface");
    String otherId = endpoint(client, otherUrl, other.id());

    // A conversion whose delivery fails twice at the receiver: a dead letter for the console to replay.
    assertThat(client.postback(surface, "{\"externalId\":\"browser-dead\",\"eventType\":\"sale\",\"grossMinor\":100,"
        + "\"currency\":\"USD\"}").status()).isEqualTo(200);
    Await.until("the delivery to die", Duration.ofSeconds(20), () -> TestBackends.queryLong(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND status = 'dead'", endpointId) == 1);
    receiverUp.set(true);

    Files.deleteIfExists(SHOTS.resolve("failure.png"));
    Path input = Files.createTempFile("console-browser", ".json");
    Files.writeString(input, new JsonObject()
        .put("base", "http://127.0.0.1:" + gateway.port())
        .put("chromium", CHROMIUM.toString())
        .put("adminToken", TestBackends.ADMIN_TOKEN)
        .put("surface", surface.id())
        .put("secret", surface.secret())
        .put("endpointId", endpointId)
        .put("endpointUrl", endpointUrl)
        .put("otherEndpointId", otherId)
        .put("otherEndpointUrl", otherUrl)
        .put("trackerUrl", receiver.url("/tracker"))
        .put("shots", SHOTS.toAbsolutePath().toString())
        .encode());
    List<String> accessLog = new CopyOnWriteArrayList<>();
    NodeTools.Result result;
    LoggerContext logs = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger access = logs.getLogger("access");
    Level level = access.getLevel();
    AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        accessLog.add(event.getFormattedMessage() + " " + Arrays.toString(event.getArgumentArray()));
      }
    };
    capture.setContext(logs);
    capture.start();
    access.addAppender(capture);
    access.setLevel(Level.INFO);
    try {
      result = NodeTools.node(300, SCRIPT, input.toString());
    } finally {
      access.detachAppender(capture);
      access.setLevel(level);
    }
    // The steps it passed, in the test's output: what the browser saw is part of the build log.
    System.out.println(result.output());
    assertThat(result.exitCode()).as(result.output()).isZero();
    // The browser sent the tokens as headers only: the access log saw the pages and API calls, never a token.
    assertThat(accessLog).anySatisfy(line -> assertThat(line).startsWith("GET"));
    assertThat(accessLog).noneSatisfy(line -> assertThat(line).containsAnyOf(TestBackends.ADMIN_TOKEN, "ptl_"));

    // The replay reached the real receiver, and it answered 204 this time.
    assertThat(receiver.received("/failing")).hasSizeGreaterThanOrEqualTo(3);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND status = 'succeeded'",
        endpointId)).isGreaterThanOrEqualTo(1);
    Await.until("the console's test event at the receiver", Duration.ofSeconds(20),
        () -> receiver.received("/failing").stream().anyMatch(r -> r.body().contains("endpoint.test")));
    assertThat(receiver.received("/other-surface")).isEmpty();
    // The console's test postback reached the affiliate's tracker.
    assertThat(receiver.received("/tracker")).isNotEmpty();
    for (String page : new String[] {"console-sign-in", "console-overview", "console-postback-log", "console-endpoint",
        "console-endpoint-replayed", "console-endpoint-disabled", "console-conversions", "console-program", "console-program-affiliates", "console-overview-phone", "console-program-phone",
        "portal-endpoints", "portal-other-endpoint-refused", "portal-postback-log", "console-postbacks", "portal-postbacks"}) {
      assertThat(SHOTS.resolve(page + ".png")).isNotEmptyFile();
    }
  }

  private static String endpoint(GatewayClient client, String url, String surfaceId) {
    Reply r = client.admin("POST", "/admin/webhook-endpoints", new JsonObject().put("url", url).put("surfaceId", surfaceId));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().getString("id");
  }
}
