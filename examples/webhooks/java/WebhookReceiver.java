// Receives the gateway's webhooks and verifies their Standard Webhooks signature. Java 17+, standard
// library only: java WebhookReceiver.java
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static java.nio.charset.StandardCharsets.UTF_8;

public class WebhookReceiver {
  static final long TOLERANCE_SECONDS = 5 * 60;

  public static void main(String[] args) throws IOException {
    String secret = System.getenv("WEBHOOK_SECRET"); // the endpoint's whsec_... secret
    byte[] key = Base64.getDecoder().decode(secret.startsWith("whsec_") ? secret.substring(6) : secret);
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "9000"));
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/", exchange -> receive(key, exchange));
    server.start();
    System.out.println("listening on " + port);
  }

  static void receive(byte[] key, HttpExchange exchange) throws IOException {
    try {
      byte[] body = exchange.getRequestBody().readAllBytes(); // the exact bytes received
      String id = exchange.getRequestHeaders().getFirst("webhook-id");
      boolean ok = verified(key, id, exchange.getRequestHeaders().getFirst("webhook-timestamp"),
          exchange.getRequestHeaders().getFirst("webhook-signature"), body);
      if (ok) {
        // Deliveries are at-least-once: de-duplicate on webhook-id before acting.
        System.out.println("verified " + id);
      }
      exchange.sendResponseHeaders(ok ? 204 : 400, -1);
    } catch (GeneralSecurityException | RuntimeException e) {
      exchange.sendResponseHeaders(400, -1);
    } finally {
      exchange.close();
    }
  }

  static boolean verified(byte[] key, String id, String timestamp, String signatures, byte[] body)
      throws GeneralSecurityException {
    if (id == null || id.isEmpty() || timestamp == null || !timestamp.matches("[0-9]{1,12}") || signatures == null) {
      return false;
    }
    if (Math.abs(Instant.now().getEpochSecond() - Long.parseLong(timestamp)) > TOLERANCE_SECONDS) {
      return false;
    }
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    mac.update((id + "." + timestamp + ".").getBytes(UTF_8));
    byte[] expected = ("v1," + Base64.getEncoder().encodeToString(mac.doFinal(body))).getBytes(UTF_8);
    // One signature per active secret (rotation): any may match; MessageDigest.isEqual is constant-time.
    for (String signature : signatures.split(" ")) {
      if (MessageDigest.isEqual(expected, signature.getBytes(UTF_8))) {
        return true;
      }
    }
    return false;
  }
}
