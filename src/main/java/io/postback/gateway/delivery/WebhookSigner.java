package io.postback.gateway.delivery;

import io.postback.gateway.ids.Ids;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Standard Webhooks signature (SPEC §5): {@code v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">},
 * keyed with the base64-decoded part of a {@code whsec_} secret, so integrators verify with any
 * off-the-shelf Standard Webhooks library.
 */
public final class WebhookSigner {
  public static final String SECRET_PREFIX = "whsec_";
  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });

  private WebhookSigner() {
  }

  /** A new endpoint secret: {@code whsec_} and 32 random bytes in standard base64. */
  public static String newSecret() {
    return SECRET_PREFIX + Base64.getEncoder().encodeToString(Ids.randomBytes(32));
  }

  /** The HMAC key of a {@code whsec_} secret. */
  public static byte[] key(String secret) {
    String b64 = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
    return Base64.getDecoder().decode(b64);
  }

  /** One {@code v1,<base64>} signature. */
  public static String sign(byte[] key, String messageId, long timestampSeconds, Buffer body) {
    Mac mac = MAC.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    mac.update((messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
    mac.update(body.getBytes());
    return "v1," + Base64.getEncoder().encodeToString(mac.doFinal());
  }

  /** The {@code webhook-signature} header: one signature per active secret, space-separated. */
  public static String header(byte[] key, byte[] previousKey, String messageId, long timestampSeconds, Buffer body) {
    String current = sign(key, messageId, timestampSeconds, body);
    return previousKey == null ? current : current + " " + sign(previousKey, messageId, timestampSeconds, body);
  }
}
