package io.postback.gateway.text;

import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;

import java.util.Map;

/**
 * JSON of the small flat objects on the postback hot path (the outcome answered and remembered in Redis,
 * postback-log entries) through Vert.x' streaming codec. {@code JsonObject.encode()} and
 * {@code new JsonObject(String)} go through jackson-databind's ObjectMapper (serializer lookup, a provider
 * per call): in the duplicate profile Jackson was 22 % of the CPU samples, most of it databind. The
 * streaming codec writes and reads the same text as {@code encode()} and {@code new JsonObject(String)}
 * for what these objects hold (strings, integers, booleans, null); anything else keeps the default codec.
 */
public final class JsonText {
  private static final JacksonCodec STREAMING = new JacksonCodec();

  private JsonText() {
  }

  /** What {@code json.encode()} gives. */
  public static String encode(JsonObject json) {
    return STREAMING.toString(json, false);
  }

  /** What {@code new JsonObject(json)} gives; fails with a DecodeException unless the text is one JSON object. */
  @SuppressWarnings("unchecked")
  public static JsonObject parse(String json) {
    return new JsonObject((Map<String, Object>) STREAMING.fromString(json, Map.class));
  }
}
