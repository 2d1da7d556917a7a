package io.postback.gateway.surface;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * One merchant integration as the hot path needs it: immutable, replaced whole when it changes.
 *
 * @param secret                   the current postback secret
 * @param previousSecret           the secret before the last rotation, or null
 * @param previousSecretValidUntil when the previous secret stops verifying
 * @param timestampTolerance       per-surface override of the gateway default, or null
 */
public record Surface(
    String id,
    String name,
    String secret,
    String previousSecret,
    Instant previousSecretValidUntil,
    Duration timestampTolerance,
    Instant createdAt,
    Instant updatedAt) {

  public byte[] secretKey() {
    return secret.getBytes(StandardCharsets.UTF_8);
  }

  /** The previous secret's key while it is still inside its grace period at {@code now}, else null. */
  public byte[] previousKey(Instant now) {
    if (previousSecret == null || previousSecretValidUntil == null || !now.isBefore(previousSecretValidUntil)) {
      return null;
    }
    return previousSecret.getBytes(StandardCharsets.UTF_8);
  }

  /** The admin view: never the secrets. */
  public JsonObject toAdminJson() {
    JsonObject json = new JsonObject()
        .put("id", id)
        .put("name", name)
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString());
    if (timestampTolerance != null) {
      json.put("timestampToleranceMs", timestampTolerance.toMillis());
    }
    if (previousSecretValidUntil != null) {
      json.put("previousSecretValidUntil", previousSecretValidUntil.toString());
    }
    return json;
  }
}
