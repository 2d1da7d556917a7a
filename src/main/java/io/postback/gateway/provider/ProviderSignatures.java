package io.postback.gateway.provider;

import io.postback.gateway.ingest.SignatureVerifier;

import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The providers' own webhook signature schemes, checked over the raw bytes in constant time
 * ({@link MessageDigest#isEqual}) against every live secret (two during a rotation).
 * <ul>
 *   <li>Stripe: {@code Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>...]}, each v1 the HMAC-SHA256 of
 *   {@code "<t>.<payload>"} keyed with the endpoint secret's bytes as they are ({@code whsec_...} is not
 *   base64-decoded); any v1 may match; t within {@link #STRIPE_TOLERANCE} of the clock.</li>
 *   <li>Razorpay: {@code X-Razorpay-Signature: <hex>}, the HMAC-SHA256 of the raw body. Razorpay signs no
 *   timestamp: replays are answered from the event id (ProviderRoutes) and the conversion's externalId.</li>
 * </ul>
 */
public final class ProviderSignatures {
  /** Stripe's own libraries' default tolerance. */
  public static final Duration STRIPE_TOLERANCE = Duration.ofSeconds(300);
  private static final int MAX_HEADER = 2_048;
  private static final int MAX_TIMESTAMP_DIGITS = 12;
  private static final HexFormat HEX = HexFormat.of();

  /** Why a signature was refused: the message of the 400 answer. */
  public static final class Refused extends Exception {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private ProviderSignatures() {
  }

  public static void verifyStripe(String header, byte[] payload, List<String> secrets, Instant now) throws Refused {
    if (header == null || header.isEmpty()) {
      throw new Refused("The Stripe-Signature header is missing");
    }
    if (header.length() > MAX_HEADER) {
      throw new Refused("The Stripe-Signature header is too long");
    }
    String timestamp = null;
    List<byte[]> candidates = new ArrayList<>();
    for (String part : header.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String key = part.substring(0, eq).trim();
      String value = part.substring(eq + 1).trim();
      if (key.equals("t")) {
        timestamp = value;
      } else if (key.equals("v1") && SignatureVerifier.looksLikeSignature(value)) {
        candidates.add(HEX.parseHex(value));
      }
    }
    if (timestamp == null || timestamp.isEmpty() || timestamp.length() > MAX_TIMESTAMP_DIGITS
        || !SignatureVerifier.decimalDigits(timestamp)) {
      throw new Refused("Stripe-Signature has no valid timestamp t=<unix seconds>");
    }
    if (candidates.isEmpty()) {
      throw new Refused("Stripe-Signature has no v1 signature");
    }
    long t = Long.parseLong(timestamp);
    long nowS = now.getEpochSecond();
    if (t < nowS - STRIPE_TOLERANCE.toSeconds() || t > nowS + STRIPE_TOLERANCE.toSeconds()) {
      throw new Refused("Stripe-Signature's timestamp is more than " + STRIPE_TOLERANCE.toSeconds()
          + " s away from the server clock");
    }
    for (String secret : secrets) {
      byte[] expected = SignatureVerifier.sign(secret, timestamp, payload);
      boolean match = false;
      // Every candidate is compared, matched or not, so timing does not tell which one matched.
      for (byte[] candidate : candidates) {
        match |= MessageDigest.isEqual(expected, candidate);
      }
      if (match) {
        return;
      }
    }
    throw new Refused("No v1 signature in Stripe-Signature matches the payload under the surface's Stripe webhook secret");
  }

  public static void verifyRazorpay(String header, byte[] payload, List<String> secrets) throws Refused {
    if (header == null || header.isEmpty()) {
      throw new Refused("The X-Razorpay-Signature header is missing");
    }
    String value = header.trim();
    if (!SignatureVerifier.looksLikeSignature(value)) {
      throw new Refused("X-Razorpay-Signature must be the hex HMAC-SHA256 of the body (64 hex digits)");
    }
    byte[] given = HEX.parseHex(value);
    for (String secret : secrets) {
      if (MessageDigest.isEqual(SignatureVerifier.hmac(secret, payload), given)) {
        return;
      }
    }
    throw new Refused("X-Razorpay-Signature does not match the body under the surface's Razorpay webhook secret");
  }
}
