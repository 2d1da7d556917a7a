package io.postback.gateway.ids;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/** Generated identifiers and secrets. */
public final class Ids {
  private static final char[] CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
  private static final SecureRandom SECURE = new SecureRandom();

  private Ids() {
  }

  /**
   * A prefixed, time-ordered id ({@code cv_01jd…}): 48 bits of milliseconds then 80 random bits, so that
   * rows inserted together land together in the primary-key index.
   */
  public static String timeOrdered(String prefix) {
    return timeOrdered(prefix, System.currentTimeMillis());
  }

  /** A time-ordered id of a given instant (milliseconds since the epoch): day partition bounds, and tests. */
  public static String timeOrdered(String prefix, long millis) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = r.nextLong();
    long lo = r.nextLong();
    char[] out = new char[prefix.length() + 1 + 26];
    prefix.getChars(0, prefix.length(), out, 0);
    int p = prefix.length();
    out[p++] = '_';
    for (int i = 9; i >= 0; i--) {
      out[p + i] = CROCKFORD[(int) (millis & 31)];
      millis >>>= 5;
    }
    p += 10;
    for (int i = 0; i < 16; i++) {
      long bits = i < 12 ? hi >>> (i * 5) : lo >>> ((i - 12) * 5);
      out[p++] = CROCKFORD[(int) (bits & 31)];
    }
    return new String(out);
  }

  /**
   * A time-ordered id derived from another one and an index, the same every time: work redone after a
   * crash (a report's batches) writes rows with the same ids again. It shares the parent's time
   * characters, and its other 16 characters are 80 bits of SHA-256 of the parent id and the index.
   */
  public static String derived(String prefix, String parentId, int index) {
    int time = parentId.indexOf('_') + 1;
    if (time == 0 || parentId.length() != time + 26) {
      throw new IllegalArgumentException("not a time-ordered id: " + parentId);
    }
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest((parentId + '/' + index).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    StringBuilder out = new StringBuilder(prefix.length() + 27).append(prefix).append('_')
        .append(parentId, time, time + 10);
    for (int i = 0; i < 16; i++) {
      out.append(CROCKFORD[hash[i] & 31]);
    }
    return out.toString();
  }

  /** A random url-safe token with the given prefix and number of random bytes (from SecureRandom). */
  public static String secret(String prefix, int bytes) {
    byte[] raw = new byte[bytes];
    SECURE.nextBytes(raw);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  public static byte[] randomBytes(int bytes) {
    byte[] raw = new byte[bytes];
    SECURE.nextBytes(raw);
    return raw;
  }
}
