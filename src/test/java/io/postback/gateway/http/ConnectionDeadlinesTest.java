package io.postback.gateway.http;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Over raw sockets: connections cannot be held without limit. An idle connection is closed after the
 * idle timeout; a client that trickles its request (slowloris) is closed within the read deadline while
 * everyone else is served; a batch whose headers cannot be authentic is refused before its megabytes are read.
 */
class ConnectionDeadlinesTest {
  private static final long IDLE_MS = 2_000;
  private static final long READ_MS = 1_500;
  // Timings swing 2-3x on the shared machine: bounds are generous, never tight.
  private static final long SLACK_MS = 4_000;
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway(Map.of(
      "GATEWAY_HTTP_IDLE_TIMEOUT", IDLE_MS + "ms",
      "GATEWAY_HTTP_READ_TIMEOUT", READ_MS + "ms"));

  private static Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", gateway.port());
    socket.setSoTimeout((int) (IDLE_MS + READ_MS + SLACK_MS + 5_000));
    return socket;
  }

  /** Milliseconds until the server closes the connection (reads and discards whatever it sends first). */
  private static long millisUntilClosed(Socket socket, long since) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[8192];
    try {
      while (in.read(buf) >= 0) {
        // an answer to a request sent earlier
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the connection was never closed", e);
    } catch (IOException e) {
      // reset by the server: closed as well
    }
    return System.currentTimeMillis() - since;
  }

  @Test
  void anIdleConnectionIsClosedAfterTheIdleTimeout() throws IOException {
    try (Socket silent = connect(); Socket keptAlive = connect()) {
      long start = System.currentTimeMillis();
      keptAlive.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: gw\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(keptAlive.getInputStream().readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
      long silentClosed = millisUntilClosed(silent, start);
      long keptAliveClosed = millisUntilClosed(keptAlive, start);
      assertThat(silentClosed).isBetween(IDLE_MS / 2, IDLE_MS + SLACK_MS);
      assertThat(keptAliveClosed).isBetween(IDLE_MS / 2, IDLE_MS + SLACK_MS);
    }
  }

  @Test
  void slowlorisConnectionsAreClosedWithinTheReadDeadlineWhileOthersAreServed() throws Exception {
    List<CompletableFuture<Long>> slow = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // A byte every 100 ms keeps the idle timeout from firing; the head never ends.
      slow.add(CompletableFuture.supplyAsync(() -> trickle("GET /health/live HTTP/1.1\r\nHost: gw\r\nX-Slow: "
          + "a".repeat(10_000))));
    }
    // One more that sends its head at once and then trickles its body.
    slow.add(CompletableFuture.supplyAsync(() -> trickle("POST /admin/surfaces HTTP/1.1\r\nHost: gw\r\n"
        + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"name\":\"" + "s".repeat(4_000))));
    GatewayClient client = gateway.client();
    AtomicBoolean served = new AtomicBoolean(true);
    while (!slow.stream().allMatch(CompletableFuture::isDone)) {
      served.compareAndSet(true, client.get("/health/live").status() == 200);
      Thread.sleep(100);
    }
    assertThat(served).as("normal requests were served meanwhile").isTrue();
    for (CompletableFuture<Long> f : slow) {
      assertThat(f.join()).as("closed within the read deadline").isBetween(READ_MS / 2, READ_MS + SLACK_MS);
    }
  }

  /**
   * The read deadline counts from the first byte of each request: a keep-alive connection serving
   * requests for several deadlines in a row stays open, and a slow request on it later still gets the
   * whole deadline, from its own start.
   */
  @Test
  void theReadDeadlineCountsFromEachRequestsFirstByteOnAKeptAliveConnection() throws Exception {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      long until = System.currentTimeMillis() + 3 * READ_MS;
      int answered = 0;
      while (System.currentTimeMillis() < until) {
        out.write("GET /health/live HTTP/1.1\r\nHost: gw\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertThat(readResponseHead(in)).startsWith("HTTP/1.1 200");
        answered++;
        Thread.sleep(250);
      }
      assertThat(answered).as("requests answered on one connection over three read deadlines").isGreaterThan(5);
      long start = System.currentTimeMillis();
      Long closedAfter = null;
      for (byte b : ("GET /health/live HTTP/1.1\r\nHost: gw\r\nX-Slow: " + "a".repeat(200)).getBytes(StandardCharsets.US_ASCII)) {
        try {
          out.write(b);
          out.flush();
        } catch (IOException closed) {
          closedAfter = System.currentTimeMillis() - start;
          break;
        }
        Thread.sleep(50);
      }
      if (closedAfter == null) {
        closedAfter = millisUntilClosed(socket, start);
      }
      assertThat(closedAfter).as("closed a read deadline after the slow request began")
          .isBetween(READ_MS / 2, READ_MS + SLACK_MS);
    }
  }

  /** Reads one response to its end (head and Content-Length body); answers the head. */
  private static String readResponseHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("the connection was closed after: " + head);
      }
      head.append((char) c);
    }
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    assertThat(length.find()).as(head.toString()).isTrue();
    in.readNBytes(Integer.parseInt(length.group(1)));
    return head.toString();
  }

  /** Sends the text a byte every 100 ms from the start; returns the milliseconds until the server closed. */
  private static long trickle(String text) {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      long start = System.currentTimeMillis();
      byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
      for (byte b : bytes) {
        try {
          out.write(b);
          out.flush();
        } catch (IOException e) {
          return System.currentTimeMillis() - start;
        }
        if (socket.getInputStream().available() > 0 || System.currentTimeMillis() - start > 30_000) {
          break;
        }
        Thread.sleep(100);
      }
      return millisUntilClosed(socket, start);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aBatchWhoseHeadersCannotBeAuthenticIsRefusedBeforeItsBodyIsRead() throws IOException {
    TestSurface surface = gateway.client().createSurface();
    String now = String.valueOf(System.currentTimeMillis());
    String sig = "a".repeat(64);
    String[][] cases = {
        {"401", "x-ea-surface: no-such-surface\r\nx-ea-timestamp: " + now + "\r\nx-ea-signature: " + sig},
        {"401", "x-ea-surface: " + surface.id() + "\r\nx-ea-timestamp: 1000\r\nx-ea-signature: " + sig},
        {"401", "x-ea-surface: " + surface.id() + "\r\nx-ea-timestamp: " + now + "\r\nx-ea-signature: not-hex"},
        {"401", "x-ea-surface: " + surface.id() + "\r\nx-ea-timestamp: " + now},
        {"415", "x-ea-surface: " + surface.id() + "\r\nx-ea-timestamp: " + now + "\r\nx-ea-signature: " + sig
            + "\r\nx-content: text/plain"},
    };
    for (String[] c : cases) {
      String contentType = c[1].contains("x-content: text/plain") ? "text/plain" : "application/json";
      try (Socket socket = connect()) {
        socket.setSoTimeout((int) READ_MS);
        // Announces 4 MB, sends only the head and 10 bytes of it.
        socket.getOutputStream().write(("POST /v1/conversions/batch HTTP/1.1\r\nHost: gw\r\nContent-Type: " + contentType
            + "\r\nContent-Length: 4000000\r\n" + c[1] + "\r\n\r\n[{\"a\":1},").getBytes(StandardCharsets.US_ASCII));
        String head;
        try {
          head = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
        } catch (SocketTimeoutException e) {
          throw new AssertionError("no answer before the body was sent: " + c[1], e);
        }
        assertThat(head).as(c[1]).isEqualTo("HTTP/1.1 " + c[0]);
      }
    }
  }
}
