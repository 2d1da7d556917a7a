// Sends one signed conversion postback to the gateway. Java 17+, standard library only:
// java PostbackExample.java
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static java.nio.charset.StandardCharsets.UTF_8;

public class PostbackExample {

  public static void main(String[] args) throws Exception {
    String secret = System.getenv("SURFACE_SECRET");
    if (secret == null || secret.isEmpty()) {
      System.err.println("SURFACE_SECRET is required");
      System.exit(2);
    }
    String externalId = env("EXTERNAL_ID", "order-" + System.currentTimeMillis()); // your order id
    String conversion = "{\"externalId\":" + jsonString(externalId)
        + ",\"eventType\":\"sale\",\"grossMinor\":4999,\"currency\":\"USD\"}";
    HttpResponse<String> response = sendPostback(env("GATEWAY_URL", "http://localhost:8080"),
        env("SURFACE_ID", "demo"), secret, conversion);
    System.out.println(response.statusCode() + " " + response.body());
    System.exit(response.statusCode() / 100 == 2 ? 0 : 1);
  }

  static HttpResponse<String> sendPostback(String gatewayUrl, String surfaceId, String secret, String json)
      throws Exception {
    byte[] body = json.getBytes(UTF_8); // sign exactly the bytes you send
    String timestamp = Long.toString(System.currentTimeMillis()); // Unix milliseconds
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(UTF_8), "HmacSHA256"));
    mac.update((timestamp + ".").getBytes(UTF_8));
    String signature = HexFormat.of().formatHex(mac.doFinal(body));
    HttpRequest request = HttpRequest.newBuilder(URI.create(gatewayUrl + "/v1/conversions"))
        .timeout(Duration.ofSeconds(10))
        .header("content-type", "application/json")
        .header("x-ea-surface", surfaceId)
        .header("x-ea-timestamp", timestamp)
        .header("x-ea-signature", signature)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** A JSON string literal: the standard library has no JSON encoder (with Jackson, use it instead). */
  static String jsonString(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
