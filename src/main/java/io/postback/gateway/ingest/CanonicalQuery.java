package io.postback.gateway.ingest;

import io.vertx.core.MultiMap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The canonical form of a GET postback's query, which its HMAC covers (SPEC §3.3; the exact rule, with
 * signing examples, is in docs/attribution.md). It is built from the decoded parameters the handler
 * reads, so whatever separator ({@code &} or {@code ;}) or encoding carried them, the signed bytes and
 * the values that take effect are the same thing:
 * <ol>
 *   <li>for each name the gateway reads (in any ASCII case, as the parameter map matches names), every
 *       value given under it, empty ones included;</li>
 *   <li>name (as the gateway spells it, lowercase) and value each percent-encoded per RFC 3986: UTF-8,
 *       the unreserved characters {@code A-Z a-z 0-9 - . _ ~} kept, every other byte {@code %XX} with
 *       uppercase hex;</li>
 *   <li>the {@code name=value} pairs sorted bytewise and joined with {@code &}.</li>
 * </ol>
 * Encoding {@code = & ;} and {@code %} inside names and values makes the form injective: two parameter
 * sets that differ in any value, or in how often one is given, never give the same bytes.
 */
public final class CanonicalQuery {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private CanonicalQuery() {
  }

  /**
   * The canonical form of the values of {@code names} in {@code params}. Values must be storable text
   * (no NUL, no unpaired surrogate): check them first.
   */
  public static String of(MultiMap params, List<String> names) {
    List<String> pairs = new ArrayList<>();
    for (String name : names) {
      String encodedName = encode(name);
      for (String value : params.getAll(name)) {
        pairs.add(encodedName + '=' + encode(value));
      }
    }
    Collections.sort(pairs);
    return String.join("&", pairs);
  }

  /** RFC 3986 percent-encoding of the UTF-8 bytes of {@code s}; refuses an unpaired surrogate (no UTF-8 for it). */
  public static String encode(String s) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (unreserved(c)) {
        if (out != null) {
          out.append(c);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      int cp = s.codePointAt(i);
      if (Character.isSurrogate(c) && !Character.isSupplementaryCodePoint(cp)) {
        throw new IllegalArgumentException("unpaired surrogate at index " + i);
      }
      for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
        out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
      }
      i += Character.charCount(cp) - 1;
    }
    return out == null ? s : out.toString();
  }

  private static boolean unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
