package io.postback.gateway.text;

/**
 * What Postgres can store as text: no NUL character and no unpaired UTF-16 surrogate (neither can be
 * encoded as valid UTF-8, and Postgres refuses both in text and in jsonb). Every value that comes from
 * outside and is stored (fields, header values, query parameters, a receiver's response body) is either
 * checked here and refused with a 400 naming its field, or cleaned here, before it joins a batch: one bad
 * value must never fail the statement that carries its neighbours.
 */
public final class StorableText {
  /** What replaces a character that cannot be stored: U+FFFD, the Unicode replacement character. */
  public static final char REPLACEMENT = '\uFFFD';

  private StorableText() {
  }

  /** Null when {@code value} can be stored as it is; otherwise why not, as a phrase ("contains a NUL character"). */
  public static String problem(String value) {
    if (value == null) {
      return null;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == 0) {
        return "contains a NUL character";
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
          continue;
        }
        return "contains an unpaired surrogate (not valid Unicode)";
      }
      if (Character.isLowSurrogate(c)) {
        return "contains an unpaired surrogate (not valid Unicode)";
      }
    }
    return null;
  }

  /** True when {@link #problem} finds nothing. */
  public static boolean storable(String value) {
    return problem(value) == null;
  }

  /**
   * The value made storable and at most {@code maxChars} long: NUL and unpaired surrogates become U+FFFD,
   * and a cut never splits a surrogate pair. Returns the same instance when nothing had to change.
   */
  public static String clean(String value, int maxChars) {
    if (value == null) {
      return null;
    }
    int length = Math.min(value.length(), maxChars);
    if (length > 0 && length < value.length() && Character.isHighSurrogate(value.charAt(length - 1))
        && Character.isLowSurrogate(value.charAt(length))) {
      length--;
    }
    StringBuilder out = null;
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      boolean bad;
      if (c == 0) {
        bad = true;
      } else if (Character.isHighSurrogate(c)) {
        bad = !(i + 1 < length && Character.isLowSurrogate(value.charAt(i + 1)));
        if (!bad) {
          if (out != null) {
            out.append(c).append(value.charAt(i + 1));
          }
          i++;
          continue;
        }
      } else {
        bad = Character.isLowSurrogate(c);
      }
      if (bad && out == null) {
        out = new StringBuilder(length).append(value, 0, i);
      }
      if (out != null) {
        out.append(bad ? REPLACEMENT : c);
      }
    }
    if (out != null) {
      return out.toString();
    }
    return length == value.length() ? value : value.substring(0, length);
  }
}
