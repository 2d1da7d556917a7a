package io.postback.gateway.ingest;

import java.util.function.Function;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.surface.Surface;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Where a postback is verified: every credential check of every inbound form, and nothing else (the
 * routes read the values, the surface guard checks source addresses and rate). Signed forms carry a
 * timestamp near the server clock and an HMAC-SHA256 of {@code "<timestamp>.<signed content>"} under
 * the surface's secret (or, during a rotation's grace time, its previous one); a GET postback carries
 * the surface's postback token or such a signature over its canonical query. Every refusal is a 401
 * naming what is wrong.
 */
public final class PostbackVerifier {
  /** Timestamps: Unix milliseconds as plain decimal digits, bounded before any arithmetic. */
  private static final int MAX_TIMESTAMP_DIGITS = 15;

  private final Duration defaultTolerance;

  /** {@code defaultTolerance}: the accepted clock skew of a surface that sets none of its own. */
  public PostbackVerifier(Duration defaultTolerance) {
    this.defaultTolerance = defaultTolerance;
  }

  /** The timestamp ({@code name}: the header or parameter it came in) must be near the server clock. */
  public void checkTimestamp(Surface surface, String name, String timestamp, Instant now) {
    if (timestamp == null || timestamp.isEmpty()) {
      throw ApiError.of(401, "missing_timestamp", name + " is missing");
    }
    if (timestamp.length() > MAX_TIMESTAMP_DIGITS || !SignatureVerifier.decimalDigits(timestamp)) {
      throw ApiError.of(401, "invalid_timestamp", name + " must be Unix time in milliseconds (decimal digits)");
    }
    long millis = Long.parseLong(timestamp);
    Duration tolerance = surface.timestampTolerance() != null ? surface.timestampTolerance() : defaultTolerance;
    // Compared as a window around now, never as |now - ts|: that difference overflows for a ts near
    // Long.MIN_VALUE, and Math.abs(Long.MIN_VALUE) is negative, i.e. "fresh".
    long nowMs = now.toEpochMilli();
    if (millis < nowMs - tolerance.toMillis() || millis > nowMs + tolerance.toMillis()) {
      throw ApiError.of(401, "stale_timestamp", name + " is more than " + tolerance.toSeconds()
          + " s away from the server clock; sign each request (and each retry) with the current time");
    }
  }

  /**
   * The signature header is there and has the form of a signature (64 hex digits): checked before the
   * body is read, so that a request that cannot be authentic is refused without reading it.
   */
  public void checkSignatureForm(String header, String signature) {
    if (signature == null || signature.isEmpty()) {
      throw ApiError.of(401, "missing_signature", "The " + header + " header is missing");
    }
    if (!SignatureVerifier.looksLikeSignature(signature)) {
      throw ApiError.of(401, "bad_signature", header + " must be the hex HMAC-SHA256 (64 hex digits)");
    }
  }

  /** The signature matches, under the current secret or during a rotation's grace time the previous one. */
  public void checkSignature(Surface surface, String timestamp, byte[] signed, String signature, Instant now,
                             String expected) {
    if (!matches(surface, timestamp, signed, signature, now)) {
      throw ApiError.of(401, "bad_signature", expected);
    }
  }

  /**
   * A GET postback's credentials: the postback token (unless the surface switched token authentication
   * off), else {@code ts} and {@code sig} over the canonical query. {@code param} reads one credential
   * parameter (sig, then ts, and only when needed).
   */
  public void checkGetCredentials(Surface surface, String token, Function<String, String> param,
                                  Supplier<byte[]> canonicalQuery, Instant now) {
    if (token != null) {
      if (!surface.postbackTokenEnabled()) {
        throw ApiError.of(401, "token_auth_disabled", "This surface accepts GET postbacks signed with ts and sig only; "
            + "remove the token from the URL");
      }
      if (!surface.acceptsPostbackToken(token, now)) {
        throw ApiError.of(401, "bad_token", "The postback token is not this surface's token");
      }
      return;
    }
    String sig = param.apply("sig");
    if (sig == null) {
      throw ApiError.of(401, "missing_token", (surface.postbackTokenEnabled() ? "Authenticate with token=<postback token> or"
          : "Authenticate") + " with ts and sig (hex HMAC-SHA256 of \"<ts>.<canonical query>\", see docs/attribution.md)");
    }
    String ts = param.apply("ts");
    checkTimestamp(surface, "ts", ts, now);
    checkSignature(surface, ts, canonicalQuery.get(), sig, now,
        "sig does not match HMAC-SHA256(secret, \"<ts>.<canonical query>\"), see docs/attribution.md");
  }

  private static boolean matches(Surface surface, String timestamp, byte[] signed, String signature, Instant now) {
    boolean valid = SignatureVerifier.verify(surface.secret(), timestamp, signed, signature);
    if (!valid && surface.previousKey(now) != null) {
      valid = SignatureVerifier.verify(surface.previousSecret(), timestamp, signed, signature);
    }
    return valid;
  }
}
