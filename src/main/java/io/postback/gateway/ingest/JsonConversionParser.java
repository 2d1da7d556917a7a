package io.postback.gateway.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.postback.gateway.http.ApiError;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Streams a JSON conversion object into a {@link ConversionDraft} without building a tree; the
 * metadata object is kept as the exact bytes received. Unknown fields are skipped (forward
 * compatibility); a wrong type names the field.
 */
public final class JsonConversionParser {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  private JsonConversionParser() {
  }

  public static ConversionDraft parse(byte[] body) {
    try (JsonParser p = FACTORY.createParser(body)) {
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

  /** Reads one conversion object whose START_OBJECT is the current token; leaves the parser on its END_OBJECT. */
  public static ConversionDraft readObject(JsonParser p, byte[] source) throws IOException {
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
    return p.getText();
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
    p.skipChildren();
    int end = (int) p.currentLocation().getByteOffset();
    if (end - start > ConversionDraft.MAX_METADATA_BYTES) {
      throw ApiError.invalidField("metadata", "metadata must be at most " + ConversionDraft.MAX_METADATA_BYTES + " bytes of JSON");
    }
    return new String(source, start, end - start, StandardCharsets.UTF_8);
  }

  private static ApiError malformed(String detail) {
    return ApiError.of(400, "malformed_json", "The body is not valid JSON: " + detail);
  }
}
