package io.postback.gateway.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.postback.gateway.http.ApiError;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a batch body (SPEC §3.4) into the raw bytes of its items, each then parsed like a single
 * postback body: a JSON array's elements, or an NDJSON body's non-blank lines. Only the array's own
 * structure is checked here; an item's content is its own business, so a bad item fails alone. At most
 * {@code maxItems + 1} items are split off, enough for the caller to refuse an oversized batch without
 * splitting all of it. Nothing but a list or an {@link ApiError} comes out.
 */
public final class BatchItems {
  // No duplicate-key detection here: an item with duplicate keys fails alone, when it is parsed.
  private static final JsonFactory FACTORY = new JsonFactory();
  private BatchItems() {
  }

  public static List<byte[]> split(byte[] body, boolean ndjson, int maxItems) {
    return ndjson ? lines(body, maxItems) : arrayItems(body, maxItems);
  }

  private static List<byte[]> arrayItems(byte[] body, int maxItems) {
    List<byte[]> items = new ArrayList<>();
    try (JsonParser p = JsonConversionParser.utf8Parser(FACTORY, body)) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw malformed("the body must be a JSON array of conversions");
      }
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          throw malformed("unterminated JSON array");
        }
        int start = (int) p.currentTokenLocation().getByteOffset();
        p.skipChildren();
        int end = (int) p.currentLocation().getByteOffset();
        items.add(Arrays.copyOfRange(body, start, end));
        if (items.size() > maxItems) {
          return items;
        }
      }
      if (p.nextToken() != null) {
        throw malformed("unexpected content after the JSON array");
      }
    } catch (IOException e) {
      throw malformed(e.getMessage());
    }
    return items;
  }

  private static List<byte[]> lines(byte[] body, int maxItems) {
    List<byte[]> items = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= body.length; i++) {
      if (i == body.length || body[i] == '\n') {
        int end = i;
        if (end > start && body[end - 1] == '\r') {
          end--;
        }
        if (!isBlank(body, start, end)) {
          items.add(Arrays.copyOfRange(body, start, end));
          if (items.size() > maxItems) {
            return items;
          }
        }
        start = i + 1;
      }
    }
    return items;
  }

  private static boolean isBlank(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != ' ' && b[i] != '\t') {
        return false;
      }
    }
    return true;
  }

  private static ApiError malformed(String detail) {
    return ApiError.of(400, "malformed_json", "The body is not valid JSON: " + detail);
  }
}
