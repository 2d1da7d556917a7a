package io.postback.gateway.ingest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * HMAC-SHA256 over {@code "<timestamp>.<raw body>"}, compared in constant time. Initialised Macs are
 * kept per thread and per key: event-loop threads reuse them, so the hot path allocates no Mac and
 * derives no key schedule.
 */
public final class SignatureVerifier {
  private static final int MAX_CACHED_KEYS = 1_024;
  private static final ThreadLocal<Map<String, Mac>> MACS = ThreadLocal.withInitial(HashMap::new);
  private static final HexFormat HEX = HexFormat.of();

  private SignatureVerifier() {
  }

  /** True when {@code signatureHex} is the HMAC of {@code timestamp + "." + body} under {@code secret}. */
  public static boolean verify(String secret, String timestamp, byte[] body, String signatureHex) {
    if (secret == null || !looksLikeSignature(signatureHex)) {
      return false;
    }
    return MessageDigest.isEqual(sign(secret, timestamp, body), HEX.parseHex(signatureHex));
  }

  /**
   * Whether a signed timestamp is only ASCII decimal digits, the check before it is parsed: Long.parseLong
   * alone would also take a sign and the digits of other scripts.
   */
  public static boolean decimalDigits(String timestamp) {
    for (int i = 0; i < timestamp.length(); i++) {
      char c = timestamp.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** Whether the value has the form of a signature at all: 64 hex digits (32 bytes). */
  public static boolean looksLikeSignature(String signatureHex) {
    if (signatureHex == null || signatureHex.length() != 64) {
      return false;
    }
    for (int i = 0; i < 64; i++) {
      if (Character.digit(signatureHex.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  /** The raw HMAC bytes; also used by tools and tests that need to sign. */
  public static byte[] sign(String secret, String timestamp, byte[] body) {
    Mac mac = mac(secret);
    mac.update(timestamp.getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) '.');
    mac.update(body);
    return mac.doFinal();
  }

  /** HMAC-SHA256 of the bytes alone, keyed with the secret's UTF-8 bytes (e.g. Razorpay's webhook signature). */
  public static byte[] hmac(String secret, byte[] content) {
    return mac(secret).doFinal(content);
  }

  public static String signHex(String secret, String timestamp, byte[] body) {
    return HEX.formatHex(sign(secret, timestamp, body));
  }

  private static Mac mac(String secret) {
    Map<String, Mac> macs = MACS.get();
    Mac mac = macs.get(secret);
    if (mac == null) {
      if (macs.size() >= MAX_CACHED_KEYS) {
        macs.clear();
      }
      try {
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 unavailable", e);
      }
      macs.put(secret, mac);
    }
    return mac;
  }
}
