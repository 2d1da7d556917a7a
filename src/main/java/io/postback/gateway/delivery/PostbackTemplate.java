package io.postback.gateway.delivery;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An affiliate postback template (SPEC §5.1, docs/affiliate-postbacks.md): a URL, and for POST an optional
 * body, with macros such as {@code {click_id}} replaced by the conversion's values at send time.
 *
 * <p>Parsed once, when saved: an unknown macro is refused then, naming it, never discovered at send time.
 * Each macro's position is decided at parse time, and its value is encoded for that position only, in
 * one pass: percent-encoding (every byte but RFC 3986's unreserved characters) in the URL's path and
 * query, JSON string escaping inside a JSON string of the body (a bare JSON macro becomes a complete
 * JSON string, or a number for the numeric macros), form encoding in a form body. A value can therefore
 * never add, split or alter a parameter, a field or the path, and a value that reads like a macro
 * ({@code {payout}}) is sent as that text, never expanded. Macros may not appear in the scheme, host or
 * port: the destination is fixed when saved, so the SSRF check at save time means something.
 */
public final class PostbackTemplate {
  /** The industry's other spellings, and the macro each one means. */
  public static final Map<String, String> ALIASES = Map.of(
      "clickid", "click_id",
      "transaction_id", "txid",
      "amount", "payout",
      "sum", "payout");
  /** Every macro name (without the {@code sub:name} form), in documentation order. */
  public static final Set<String> MACROS = new LinkedHashSet<>(List.of(
      "click_id", "txid", "conversion_id", "event", "event_type", "status", "payout", "payout_minor", "currency",
      "gross", "gross_minor", "gross_currency", "affiliate_id", "surface_id", "link_code",
      "sub1", "sub2", "sub3", "sub4", "sub5", "ip", "timestamp", "timestamp_ms"));
  /** Macros whose values are always a plain decimal number (or empty): bare in a JSON body they stay numbers. */
  static final Set<String> NUMERIC = Set.of("payout", "payout_minor", "gross", "gross_minor", "timestamp",
      "timestamp_ms");
  /** The parameter a signed template appends: HMAC-SHA256 (hex) of the rendered query, keyed with its secret. */
  public static final String SIGNATURE_PARAMETER = "sig";

  private static final String SUB_PREFIX = "sub:";
  // A macro candidate: braces around a word, optionally "word:anything-but-braces". Other braces (a JSON
  // body's) are literal text.
  private static final Pattern CANDIDATE = Pattern.compile("\\{([A-Za-z0-9_]+(?::[^{}]*)?)}");
  private static final Pattern SUB_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
  private static final Pattern SCHEME = Pattern.compile("(?i)https?://");
  private static final HexFormat HEX = HexFormat.of();
  private static final Pattern NUMBER = Pattern.compile("-?[0-9]{1,30}(\\.[0-9]{1,30})?");

  /** Where a macro stands, which decides its encoding. */
  enum Position { PATH, QUERY, JSON_STRING, JSON_BARE, FORM }

  /** A piece of a template: literal text (macro null), or a macro and its position. */
  private record Part(String literal, String macro, Position position) {
  }

  /** A template refused when saved: the field at fault and why, in a sentence. */
  public static final class InvalidTemplate extends IllegalArgumentException {
    private final String field;

    InvalidTemplate(String field, String message) {
      super(message);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  /** What a template renders to: the URL to request, and for POST the body and its media type (or nulls). */
  public record Rendered(String url, String body, String contentType) {
  }

  /**
   * The values of one conversion event: {@code values} by canonical macro name (absent: empty), and the
   * sub-ids of the click, by name (sub1..sub5 and any other the click carried).
   */
  public record Values(Map<String, String> values, Map<String, String> subs) {
  }

  private final String method;
  private final List<Part> urlParts;
  private final List<Part> bodyParts;
  private final String contentType;
  private final boolean hasQuery;

  private PostbackTemplate(String method, List<Part> urlParts, List<Part> bodyParts, String contentType,
                           boolean hasQuery) {
    this.method = method;
    this.urlParts = urlParts;
    this.bodyParts = bodyParts;
    this.contentType = contentType;
    this.hasQuery = hasQuery;
  }

  /**
   * Parses and checks a template; throws {@link InvalidTemplate} naming the field ({@code url} or
   * {@code body}) and the reason, e.g. an unknown macro. {@code body} may be null; only POST sends one.
   */
  public static PostbackTemplate parse(String url, String method, String body) {
    if (!"GET".equals(method) && !"POST".equals(method)) {
      throw new InvalidTemplate("method", "method must be GET or POST");
    }
    Matcher scheme = SCHEME.matcher(url);
    if (!scheme.lookingAt()) {
      throw new InvalidTemplate("url", "url must be an http or https URL");
    }
    if (url.indexOf('#') >= 0) {
      throw new InvalidTemplate("url", "url must not have a fragment (#...): it is never sent");
    }
    int authorityEnd = url.length();
    for (int i = scheme.end(); i < url.length(); i++) {
      char c = url.charAt(i);
      if (c == '/' || c == '?') {
        authorityEnd = i;
        break;
      }
    }
    if (url.indexOf('{', scheme.end()) >= 0 && url.indexOf('{', scheme.end()) < authorityEnd) {
      throw new InvalidTemplate("url", "macros may appear only in the url's path and query, not in its host or port");
    }
    int query = url.indexOf('?');
    List<Part> urlParts = new ArrayList<>();
    split(url, "url", i -> query >= 0 && i > query ? Position.QUERY : Position.PATH, urlParts);
    List<Part> bodyParts = null;
    String contentType = null;
    if (body != null) {
      if (!"POST".equals(method)) {
        throw new InvalidTemplate("body", "a body is sent only with method POST");
      }
      String trimmed = body.stripLeading();
      boolean json = trimmed.startsWith("{") || trimmed.startsWith("[");
      bodyParts = new ArrayList<>();
      if (json) {
        boolean[] inString = jsonStringMap(body);
        split(body, "body", i -> inString[i] ? Position.JSON_STRING : Position.JSON_BARE, bodyParts);
        contentType = "application/json";
      } else {
        split(body, "body", i -> Position.FORM, bodyParts);
        contentType = "application/x-www-form-urlencoded";
      }
    }
    PostbackTemplate template = new PostbackTemplate(method, urlParts, bodyParts, contentType, query >= 0);
    template.checkRendered();
    return template;
  }

  public String method() {
    return method;
  }

  /** Where the template sends: its host and port are fixed (no macros there), whatever the values. */
  public DestinationGuard.Destination destination() {
    return DestinationGuard.parse(render(new Values(Map.of(), Map.of()), null).url());
  }

  /** The canonical names of the macros used, in order of appearance (sub-ids as {@code sub:name}). */
  public List<String> macros() {
    List<String> out = new ArrayList<>();
    for (List<Part> parts : bodyParts == null ? List.of(urlParts) : List.of(urlParts, bodyParts)) {
      parts.stream().filter(p -> p.macro() != null && !out.contains(p.macro())).forEach(p -> out.add(p.macro()));
    }
    return out;
  }

  /**
   * Renders the template with {@code values}. With a {@code signingKey}, the URL gets
   * {@code sig=<hex HMAC-SHA256 of the rendered query>} appended as its last parameter.
   */
  public Rendered render(Values values, byte[] signingKey) {
    String url = join(urlParts, values);
    if (signingKey != null) {
      int q = url.indexOf('?');
      String rawQuery = q < 0 ? "" : url.substring(q + 1);
      String separator = !hasQuery ? "?" : rawQuery.isEmpty() || rawQuery.endsWith("&") ? "" : "&";
      url = url + separator + SIGNATURE_PARAMETER + "=" + sign(signingKey, rawQuery);
    }
    return new Rendered(url, bodyParts == null ? null : join(bodyParts, values), contentType);
  }

  /** Hex HMAC-SHA256 of the query exactly as sent (the bytes after '?', before the sig parameter). */
  public static String sign(byte[] key, String rawQuery) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HEX.formatHex(mac.doFinal(rawQuery.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private interface PositionAt {
    Position at(int index);
  }

  private static void split(String text, String field, PositionAt positions, List<Part> out) {
    Matcher m = CANDIDATE.matcher(text);
    int last = 0;
    while (m.find()) {
      if (m.start() > last) {
        out.add(new Part(text.substring(last, m.start()), null, null));
      }
      out.add(new Part(null, canonical(m.group(1), field), positions.at(m.start())));
      last = m.end();
    }
    if (last < text.length()) {
      out.add(new Part(text.substring(last), null, null));
    }
  }

  /** The canonical name of a macro, or InvalidTemplate naming it. */
  static String canonical(String name, String field) {
    if (name.startsWith(SUB_PREFIX)) {
      String sub = name.substring(SUB_PREFIX.length());
      if (!SUB_NAME.matcher(sub).matches()) {
        throw new InvalidTemplate(field, "unknown macro {" + name + "}: a sub-id name is 1 to 64 letters, digits, "
            + "'_', '.' or '-'");
      }
      return SUB_PREFIX + sub;
    }
    String canonical = ALIASES.getOrDefault(name, name);
    if (!MACROS.contains(canonical)) {
      String lower = name.toLowerCase(Locale.ROOT);
      String hint = !lower.equals(name) && (MACROS.contains(lower) || ALIASES.containsKey(lower))
          ? " (macros are lowercase: {" + lower + "})" : "";
      throw new InvalidTemplate(field, "unknown macro {" + name + "}" + hint + "; known macros: "
          + String.join(", ", MACROS.stream().map(n -> "{" + n + "}").toList()) + ", {sub:name}");
    }
    return canonical;
  }

  /** For each character of a JSON text: is it inside a string literal (its quotes excluded)? */
  private static boolean[] jsonStringMap(String json) {
    boolean[] inside = new boolean[json.length()];
    boolean in = false;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (in && c == '\\') {
        inside[i] = true;
        if (i + 1 < json.length()) {
          inside[++i] = true;
        }
        continue;
      }
      if (c == '"') {
        in = !in;
        continue;
      }
      inside[i] = in;
    }
    return inside;
  }

  /**
   * Renders with hostile sample values and checks the result: the URL must parse as an http(s) URL and a
   * JSON body must be valid JSON whatever the values, so a template that only works for some values is
   * refused now.
   */
  private void checkRendered() {
    Map<String, String> sample = new LinkedHashMap<>();
    for (String m : MACROS) {
      sample.put(m, NUMERIC.contains(m) ? "-1.25" : "a\"b\\c&d=e#f?g %h{payout}\u00e9\uD83D\uDE00\n");
    }
    Values values = new Values(sample, Map.of());
    Rendered r = render(values, null);
    try {
      DestinationGuard.parse(r.url());
    } catch (IllegalArgumentException e) {
      throw new InvalidTemplate("url", e.getMessage() + " once its macros are filled in");
    }
    if ("application/json".equals(contentType)) {
      for (Values v : List.of(values, new Values(Map.of(), Map.of()))) {
        try {
          Json.decodeValue(render(v, null).body());
        } catch (DecodeException e) {
          throw new InvalidTemplate("body", "body starts like JSON but is not valid JSON once its macros are "
              + "filled in");
        }
      }
    }
  }

  private static String join(List<Part> parts, Values values) {
    StringBuilder out = new StringBuilder();
    for (Part p : parts) {
      if (p.macro() == null) {
        out.append(p.literal());
      } else {
        encode(out, p.position(), NUMERIC.contains(p.macro()), value(p.macro(), values));
      }
    }
    return out.toString();
  }

  private static String value(String macro, Values values) {
    String v;
    if (macro.startsWith(SUB_PREFIX)) {
      v = values.subs().get(macro.substring(SUB_PREFIX.length()));
    } else if (macro.startsWith("sub") && macro.length() == 4) {
      v = values.subs().get(macro);
    } else {
      v = values.values().get(macro);
    }
    return v == null ? "" : v;
  }

  static void encode(StringBuilder out, Position position, boolean numeric, String value) {
    switch (position) {
      case PATH, QUERY -> percentEncode(out, value);
      case FORM -> out.append(URLEncoder.encode(new String(utf8(value), StandardCharsets.UTF_8), StandardCharsets.UTF_8));
      case JSON_STRING -> jsonEscape(out, value);
      case JSON_BARE -> {
        if (numeric && NUMBER.matcher(value).matches()) {
          out.append(value);
        } else if (numeric && value.isEmpty()) {
          out.append("null");
        } else {
          out.append('"');
          jsonEscape(out, value);
          out.append('"');
        }
      }
    }
  }

  /** Percent-encodes the UTF-8 bytes of every character but A-Z a-z 0-9 - . _ ~ (RFC 3986 unreserved). */
  static void percentEncode(StringBuilder out, String value) {
    for (byte b : utf8(value)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
          || c == '_' || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
  }

  /** The content of a JSON string: quotes, backslashes and control characters escaped, lone surrogates replaced. */
  static void jsonEscape(StringBuilder out, String value) {
    String s = new String(utf8(value), StandardCharsets.UTF_8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }

  /** UTF-8, with an unpaired surrogate (not Unicode) sent as U+FFFD rather than Java's '?'. */
  private static byte[] utf8(String value) {
    StringBuilder clean = null;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean lone = Character.isHighSurrogate(c)
          ? !(i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1)))
          : Character.isLowSurrogate(c) && !(i > 0 && Character.isHighSurrogate(value.charAt(i - 1)));
      if (lone && clean == null) {
        clean = new StringBuilder(value.substring(0, i));
      }
      if (clean != null) {
        clean.append(lone ? '\uFFFD' : c);
      }
    }
    return (clean == null ? value : clean.toString()).getBytes(StandardCharsets.UTF_8);
  }
}
