package io.postback.gateway.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.text.StorableText;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

/**
 * Streams a JSON conversion object into a {@link ConversionDraft} without building a tree; the
 * metadata object is kept as the exact bytes received. Unknown fields are skipped (forward
 * compatibility); a wrong type names the field, and so does text that is not valid UTF-8 or not a
 * valid JSON string. Nothing but a draft or an {@link ApiError} ever comes out.
 *
 * <p>Metadata is walked token by token as it is read, because Postgres' jsonb refuses what JSON allows:
 * the escapes {@code \u0000} and an unpaired {@code \ud800} (in keys and values), and numbers beyond
 * its numeric range. Metadata nests at most {@value #MAX_METADATA_DEPTH} levels and its numbers lie
 * within a double's magnitude (0, or 1e-308 to 1e308).
 */
public final class JsonConversionParser {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  public static final int MAX_METADATA_DEPTH = 32;
  private static final int MAX_NUMBER_EXPONENT = 308;

  private JsonConversionParser() {
  }

  public static ConversionDraft parse(byte[] body) {
    try (JsonParser p = utf8Parser(FACTORY, body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw malformed("the body must be a JSON object");
      }
      ConversionDraft draft = readObject(p, body);
      if (p.nextToken() != null) {
        throw malformed("unexpected content after the JSON object");
      }
      return draft;
    } catch (JsonProcessingException e) {
      throw malformed(e.getOriginalMessage());
    } catch (IOException e) {
      throw malformed(e.getMessage());
    }
  }

  /**
   * A parser of a UTF-8 body (RFC 8259 §8.1). Jackson would detect UTF-16 and UTF-32 from NUL bytes or a
   * byte order mark among the first four bytes, and then report char offsets where byte offsets are
   * expected (-1): such a body is refused here. None of those bytes can start a UTF-8 JSON text.
   */
  static JsonParser utf8Parser(JsonFactory factory, byte[] body) throws IOException {
    for (int i = 0; i < Math.min(4, body.length); i++) {
      if (body[i] == 0 || body[i] == (byte) 0xFE || body[i] == (byte) 0xFF) {
        throw malformed("the body must be UTF-8");
      }
    }
    return factory.createParser(body);
  }

  /** Reads one conversion object whose START_OBJECT is the current token; leaves the parser on its END_OBJECT. */
  private static ConversionDraft readObject(JsonParser p, byte[] source) throws IOException {
    ConversionDraft d = new ConversionDraft();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      switch (name) {
        case "externalId" -> d.externalId = text(p, value, name);
        case "eventType" -> d.eventType = text(p, value, name);
        case "grossMinor" -> d.grossMinor = integer(p, value, name);
        case "currency" -> d.currency = text(p, value, name);
        case "occurredAt" -> d.occurredAt = text(p, value, name);
        case "clickId" -> d.clickId = text(p, value, name);
        case "promoCode" -> d.promoCode = text(p, value, name);
        case "refundOf" -> d.refundOf = text(p, value, name);
        case "customerId" -> d.customerId = text(p, value, name);
        case "metadata" -> d.metadata = rawObject(p, value, source);
        default -> p.skipChildren();
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw malformed("unterminated JSON object");
    }
    return d;
  }

  private static String text(JsonParser p, JsonToken t, String field) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_STRING) {
      throw ApiError.invalidField(field, field + " must be a string");
    }
    try {
      // The string is decoded here (lazily): invalid UTF-8 or a bad escape surfaces now, in its field.
      return p.getText();
    } catch (JsonProcessingException e) {
      throw ApiError.invalidField(field, field + " is not a valid JSON string: " + e.getOriginalMessage());
    }
  }

  private static Long integer(JsonParser p, JsonToken t, String field) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw ApiError.invalidField(field, field + " must be an integer amount in minor units (4999 = 49.99)");
    }
    return p.getLongValue();
  }

  private static String rawObject(JsonParser p, JsonToken t, byte[] source) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      throw ApiError.invalidField("metadata", "metadata must be a JSON object");
    }
    int start = (int) p.currentTokenLocation().getByteOffset();
    try {
      checkMetadata(p);
    } catch (JsonProcessingException e) {
      throw ApiError.invalidField("metadata", "metadata is not valid JSON: " + e.getOriginalMessage());
    }
    int end = (int) p.currentLocation().getByteOffset();
    if (end - start > ConversionDraft.MAX_METADATA_BYTES) {
      throw ApiError.invalidField("metadata", "metadata must be at most " + ConversionDraft.MAX_METADATA_BYTES + " bytes of JSON");
    }
    return new String(source, start, end - start, StandardCharsets.UTF_8);
  }

  /**
   * Reads the metadata object whose START_OBJECT is the current token up to its END_OBJECT, checking
   * every key and string (decoded, so escapes count) and every number.
   */
  private static void checkMetadata(JsonParser p) throws IOException {
    int depth = 1;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw ApiError.invalidField("metadata", "metadata is not terminated");
      }
      switch (t) {
        case START_OBJECT, START_ARRAY -> {
          if (++depth > MAX_METADATA_DEPTH) {
            throw ApiError.invalidField("metadata", "metadata nests more than " + MAX_METADATA_DEPTH + " levels");
          }
        }
        case END_OBJECT, END_ARRAY -> depth--;
        case FIELD_NAME -> storable(p.currentName(), "a key");
        case VALUE_STRING -> storable(p.getText(), "a string");
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
          if (!withinDoubleMagnitude(p)) {
            throw ApiError.invalidField("metadata", "metadata numbers must lie between 1e-308 and 1e308 in magnitude");
          }
        }
        default -> {
        }
      }
    }
  }

  /** 0, or a magnitude from 1e-308 to 1e308; an exponent too large even for BigDecimal is out of it. */
  private static boolean withinDoubleMagnitude(JsonParser p) throws IOException {
    BigDecimal n;
    try {
      n = p.getDecimalValue();
    } catch (NumberFormatException e) {
      return false;
    }
    return n.signum() == 0 || Math.abs((long) n.precision() - n.scale() - 1) <= MAX_NUMBER_EXPONENT;
  }

  private static void storable(String text, String what) {
    String problem = StorableText.problem(text);
    if (problem != null) {
      throw ApiError.invalidField("metadata", "metadata holds " + what + " that " + problem);
    }
  }

  private static ApiError malformed(String detail) {
    return ApiError.of(400, "malformed_json", "The body is not valid JSON: " + detail);
  }
}
