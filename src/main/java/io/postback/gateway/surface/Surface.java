package io.postback.gateway.surface;

import io.postback.gateway.net.Cidr;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One merchant integration as the hot path needs it: immutable, replaced whole when it changes.
 *
 * @param secret                   the current postback secret
 * @param previousSecret           the secret before the last rotation, or null
 * @param previousSecretValidUntil when the previous secret stops verifying
 * @param timestampTolerance       per-surface override of the gateway default, or null
 * @param attributionWindow        how long after a click a conversion is credited to it
 * @param refundWindow             how long after the original a refund claws the commission back
 * @param minClickToConversion     a conversion sooner than this after its click is flagged; null: no check
 * @param postbackToken            token of the classic GET postback (SPEC §3.3), or null
 * @param postbackTokenEnabled     false: the GET postback is accepted with its HMAC only, never with a token
 * @param previousPostbackToken    the token before the last renewal, or null
 * @param previousPostbackTokenValidUntil when the previous token stops authenticating
 * @param ipAllowlist              source addresses allowed to post; empty: any
 * @param rateLimitPerSecond       sustained postbacks per second, all instances together; null: unlimited
 * @param rateLimitBurst           token-bucket size; null: one second's worth
 */
public record Surface(
    String id,
    String name,
    String secret,
    String previousSecret,
    Instant previousSecretValidUntil,
    Duration timestampTolerance,
    Instant createdAt,
    Instant updatedAt,
    Duration attributionWindow,
    Duration refundWindow,
    Duration minClickToConversion,
    String postbackToken,
    List<Cidr> ipAllowlist,
    Integer rateLimitPerSecond,
    Integer rateLimitBurst,
    boolean postbackTokenEnabled,
    String previousPostbackToken,
    Instant previousPostbackTokenValidUntil) {

  public static final Duration DEFAULT_ATTRIBUTION_WINDOW = Duration.ofDays(30);
  public static final Duration DEFAULT_REFUND_WINDOW = Duration.ofDays(30);
  private static final int MAX_ID = 64;

  /**
   * The shape of every surface id, {@code [A-Za-z0-9_-]{1,64}}: anything else names no surface, and is never
   * looked up. A loop rather than a regex: it runs two or three times per postback (a regex matcher was 4 % of
   * the hot path's CPU samples).
   */
  public static boolean validId(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_ID) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

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

  /**
   * True when token authentication is on and {@code token} is the postback token, or the previous one
   * inside its grace time. Comparisons run in constant time.
   */
  public boolean acceptsPostbackToken(String token, Instant now) {
    if (!postbackTokenEnabled || token == null) {
      return false;
    }
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    boolean current = postbackToken != null && MessageDigest.isEqual(postbackToken.getBytes(StandardCharsets.UTF_8), given);
    boolean previous = previousPostbackToken != null && previousPostbackTokenValidUntil != null
        && now.isBefore(previousPostbackTokenValidUntil)
        && MessageDigest.isEqual(previousPostbackToken.getBytes(StandardCharsets.UTF_8), given);
    return current || previous;
  }

  /** True when {@code address} may post to this surface. */
  public boolean allows(String address) {
    if (ipAllowlist.isEmpty()) {
      return true;
    }
    byte[] bytes = Cidr.address(address);
    for (Cidr cidr : ipAllowlist) {
      if (cidr.contains(bytes)) {
        return true;
      }
    }
    return false;
  }

  /** The admin view: never the secrets nor a postback token. */
  public JsonObject toAdminJson() {
    JsonObject json = new JsonObject()
        .put("id", id)
        .put("name", name)
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString())
        .put("attributionWindowSeconds", attributionWindow.toSeconds())
        .put("refundWindowSeconds", refundWindow.toSeconds())
        .put("minClickToConversionMs", minClickToConversion == null ? null : minClickToConversion.toMillis())
        .put("ipAllowlist", new JsonArray(ipAllowlist.stream().map(Cidr::toString).toList()))
        .put("rateLimitPerSecond", rateLimitPerSecond)
        .put("rateLimitBurst", rateLimitBurst)
        .put("postbackTokenSet", postbackToken != null)
        .put("postbackTokenEnabled", postbackTokenEnabled);
    if (timestampTolerance != null) {
      json.put("timestampToleranceMs", timestampTolerance.toMillis());
    }
    if (previousSecretValidUntil != null) {
      json.put("previousSecretValidUntil", previousSecretValidUntil.toString());
    }
    if (previousPostbackTokenValidUntil != null) {
      json.put("previousPostbackTokenValidUntil", previousPostbackTokenValidUntil.toString());
    }
    return json;
  }
}
