package io.postback.gateway.conversion;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the gateway answered for a conversion the first time; a duplicate gets exactly this back with
 * {@code "duplicate": true}. After an approval transition (pending → approved, → rejected) the outcome
 * is the conversion's state after the transition, and that is what later duplicates get.
 *
 * <p>Its byte form ({@link #encode}, {@link #decode}) is what Redis remembers and what the answer sends:
 * written and read as a stream of tokens, because every postback and every duplicate passes through it.
 * {@link #toJson} gives the same fields as an object, for answers that are composed of several.
 *
 * @param approval pending, approved or rejected (refunds: approved, the column default)
 */
public record ConversionOutcome(ConversionStatus status, String conversionId, String affiliateId, long commissionMinor,
                                String currency, Approval approval) {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] NOT_DUPLICATE = ",\"duplicate\":false,".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DUPLICATE = ",\"duplicate\":true,".getBytes(StandardCharsets.US_ASCII);
  // How every outcome that encode writes as a first answer begins, one per status.
  private static final byte[][] FIRST_ANSWER_STARTS = Arrays.stream(ConversionStatus.values())
      .map(s -> ("{\"status\":\"" + s.wire() + "\",\"duplicate\":false,").getBytes(StandardCharsets.US_ASCII))
      .toArray(byte[][]::new);

  public JsonObject toJson(boolean duplicate) {
    return new JsonObject()
        .put("status", status.wire())
        .put("duplicate", duplicate)
        .put("conversionId", conversionId)
        .put("affiliateId", affiliateId)
        .put("commissionMinor", commissionMinor)
        .put("currency", currency)
        .put("approval", approval.wire());
  }

  /** The same object as {@link #toJson}, encoded. */
  public Buffer encode(boolean duplicate) {
    ByteArrayBuilder out = new ByteArrayBuilder(192);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("status", status.wire());
      g.writeBooleanField("duplicate", duplicate);
      g.writeStringField("conversionId", conversionId);
      g.writeStringField("affiliateId", affiliateId);
      g.writeNumberField("commissionMinor", commissionMinor);
      g.writeStringField("currency", currency);
      g.writeStringField("approval", approval.wire());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);   // writing to memory does not fail
    }
    return Buffer.buffer(out.toByteArray());
  }

  /**
   * The answer to a repeat, made from the remembered first answer ({@link #encode} with {@code false}): the
   * same bytes with {@code "duplicate": true}, without reading and writing the object again. Null when the
   * bytes do not hold that field as {@link #encode} writes it. The pattern cannot occur inside a string:
   * {@link #encode} escapes every quote in one.
   */
  public static Buffer repeatAnswer(Buffer remembered) {
    int at = indexOf(remembered, NOT_DUPLICATE);
    return at < 0 ? null : markedDuplicate(remembered, at);
  }

  /**
   * {@link #repeatAnswer} of a remembered outcome that begins exactly as {@link #encode} writes a first answer (a
   * status the gateway knows, then {@code "duplicate": false}); null for anything else, which only
   * {@link #decode} can judge. For answering a repeat without reading the outcome.
   */
  public static Buffer repeatOfFirstAnswer(Buffer remembered) {
    for (byte[] start : FIRST_ANSWER_STARTS) {
      if (matchesAt(remembered, 0, start)) {
        return markedDuplicate(remembered, start.length - NOT_DUPLICATE.length);
      }
    }
    return null;
  }

  /** The remembered bytes with the {@code "duplicate": false} found at {@code at} made {@code true}. */
  private static Buffer markedDuplicate(Buffer remembered, int at) {
    return Buffer.buffer(remembered.length() - 1)
        .appendBuffer(remembered, 0, at)
        .appendBytes(DUPLICATE)
        .appendBuffer(remembered, at + NOT_DUPLICATE.length, remembered.length() - at - NOT_DUPLICATE.length);
  }

  private static int indexOf(Buffer bytes, byte[] pattern) {
    for (int i = 0, last = bytes.length() - pattern.length; i <= last; i++) {
      if (matchesAt(bytes, i, pattern)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean matchesAt(Buffer bytes, int at, byte[] pattern) {
    if (at + pattern.length > bytes.length()) {
      return false;
    }
    for (int j = 0; j < pattern.length; j++) {
      if (bytes.getByte(at + j) != pattern[j]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Reads an outcome remembered in Redis (the form {@link #encode} writes; other fields are passed over);
   * one remembered before approvals existed was approved. Throws IllegalArgumentException when the
   * bytes are not such an outcome.
   */
  public static ConversionOutcome decode(Buffer encoded) {
    String status = null;
    String conversionId = null;
    String affiliateId = null;
    long commissionMinor = 0;
    String currency = null;
    String approval = null;
    try (JsonParser p = JSON.createParser(encoded.getBytes())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("a remembered outcome is a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "status" -> status = p.getValueAsString();
          case "conversionId" -> conversionId = p.getValueAsString();
          case "affiliateId" -> affiliateId = p.getValueAsString();
          case "commissionMinor" -> commissionMinor = p.getValueAsLong();
          case "currency" -> currency = p.getValueAsString();
          case "approval" -> approval = p.getValueAsString();
          default -> {
            if (value.isStructStart()) {
              p.skipChildren();
            }
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("a remembered outcome is not valid JSON: " + e.getMessage(), e);
    }
    if (status == null) {
      throw new IllegalArgumentException("a remembered outcome names no status");
    }
    Approval known = approval == null ? Approval.APPROVED : Approval.parse(approval);
    return new ConversionOutcome(ConversionStatus.of(status), conversionId, affiliateId, commissionMinor, currency,
        known == null ? Approval.APPROVED : known);
  }
}
