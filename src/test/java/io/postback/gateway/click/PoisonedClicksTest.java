package io.postback.gateway.click;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A visitor's click is never dropped and never drops another's: values Postgres cannot store (a NUL, an
 * encoded lone surrogate, invalid UTF-8, a broken escape) are cleaned before the click joins its batch,
 * so every click, good or poisoned, is recorded and redirected with its own id.
 */
class PoisonedClicksTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private static final String[] POISON = {
      "sub1=%00", "sub1=a%00b", "sub1=%ED%A0%80", "sub1=%FF%FE", "sub1=x%C0", "sub2=ok&sub1=%00%00",
      "sub1=%3B%26%00", "sub1=a;sub2=%00", "sub1=" + "%F0%9F%98%80".repeat(300)};
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private GatewayClient client;
  private String code;

  @BeforeEach
  void link() {
    client = gateway.client();
    TestSurface surface = client.createSurface();
    code = client.createLink(surface, client.createAffiliate("active"), "https://shop.example/p", null);
  }

  private CompletableFuture<Reply> clickAsync(String query) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/c/" + code + "?"
        + query)).GET().build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> new Reply(r.statusCode(),
        r.body(), null, r.headers().firstValue("location").orElse(null)));
  }

  private static String clickId(Reply r) {
    assertThat(r.status()).as(r.toString()).isEqualTo(302);
    assertThat(r.location()).as("redirected with a click id").contains("clickId=");
    return r.location().substring(r.location().indexOf("clickId=") + 8);
  }

  @Test
  void poisonedClicksAmongGoodOnesAreAllRecordedWithTheirIds() throws Exception {
    List<String> queries = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      queries.add(i % 4 == 0 ? POISON[(i / 4) % POISON.length] : "sub1=good-" + i + "&sub2=%E2%82%AC");
    }
    List<CompletableFuture<Reply>> replies = queries.stream().map(this::clickAsync).toList();
    for (int i = 0; i < queries.size(); i++) {
      String id = clickId(replies.get(i).join());
      String[] stored = stored(id);
      assertThat(stored).as("click " + queries.get(i) + " recorded").isNotNull();
      if (i % 4 != 0) {
        assertThat(stored[0]).isEqualTo("good-" + i);
        assertThat(stored[1]).isEqualTo("€");
      } else {
        for (String value : stored) {
          assertThat(value == null || (!value.contains("\u0000") && value.length() <= 512)).as(value).isTrue();
        }
      }
    }
    assertThat(stored(clickId(clickAsync("sub1=%00").join()))[0]).isEqualTo("\uFFFD");
  }

  @Test
  void aBrokenEscapeIsRefusedByTheRouterBeforeAnyClickExists() {
    long before = TestBackends.queryLong("SELECT count(*) FROM clicks WHERE link_code = ?", code);
    RawReply r = raw("GET /c/" + code + "?sub1=%ZZ&sub2=%E HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(400);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE link_code = ?", code)).isEqualTo(before);
    assertThat(stored(clickId(clickAsync("sub1=after").join()))[0]).isEqualTo("after");
  }

  @Test
  void headerValuesAreStoredCleanedAndCapped() {
    // Bytes that are not UTF-8, and far too many of them.
    RawReply r = raw("GET /c/" + code + "?sub1=ua HTTP/1.1\r\nHost: gw\r\nUser-Agent: \u00ff\u00fe" + "x".repeat(2_000)
        + "\r\nReferer: http://ref.example/\u00c0\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isEqualTo(302);
    String id = r.location().substring(r.location().indexOf("clickId=") + 8);
    assertThat(TestBackends.queryLong("SELECT length(user_agent) FROM clicks WHERE id = ?", id)).isEqualTo(512);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ? AND referrer LIKE 'http://ref.example/%'",
        id)).isEqualTo(1);
  }

  @Test
  void aNulInTheUserAgentNeverLosesAClick() {
    RawReply r = raw("GET /c/" + code + "?sub1=ua HTTP/1.1\r\nHost: gw\r\nUser-Agent: evil\u0000agent\r\n"
        + "Connection: close\r\n\r\n");
    if (r.status() == 400) {
      // The HTTP stack refuses the header before any click exists: nothing to record, nothing lost.
      return;
    }
    assertThat(r.status()).isEqualTo(302);
    String id = r.location().substring(r.location().indexOf("clickId=") + 8);
    assertThat(TestBackends.queryLong("SELECT count(*) FROM clicks WHERE id = ? AND user_agent NOT LIKE '%' || chr(0) || '%'",
        id)).isEqualTo(1);
  }

  /** sub1..sub5 of a stored click, or null when there is no such click. */
  private static String[] stored(String clickId) {
    try (Connection c = TestBackends.jdbc();
         PreparedStatement st = c.prepareStatement("SELECT sub1, sub2, sub3, sub4, sub5 FROM clicks WHERE id = ?")) {
      st.setString(1, clickId);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)};
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private record RawReply(int status, String location) {
  }

  /** Sends bytes the HTTP client would refuse to send (a broken escape, a NUL in a header) over a plain socket. */
  private RawReply raw(String request) {
    try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        out.write(buf, 0, n);
      }
      String text = out.toString(StandardCharsets.ISO_8859_1);
      int status = Integer.parseInt(text.substring(9, 12));
      String location = null;
      for (String line : text.split("\r\n")) {
        if (line.regionMatches(true, 0, "location:", 0, 9)) {
          location = line.substring(9).trim();
        }
      }
      return new RawReply(status, location);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
