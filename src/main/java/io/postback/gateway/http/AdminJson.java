package io.postback.gateway.http;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.RequestDeadline;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.function.Function;

/** Small shared pieces of the admin API: reading a JSON body, typed fields, answering. */
public final class AdminJson {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 500;

  private AdminJson() {
  }

  /** The request body as a JSON object; an empty body is an empty object. */
  public static JsonObject body(RoutingContext ctx) {
    if (ctx.body() == null || ctx.body().length() == 0) {
      return new JsonObject();
    }
    try {
      Object value = ctx.body().asJsonObject();
      return value == null ? new JsonObject() : (JsonObject) value;
    } catch (DecodeException | ClassCastException e) {
      throw ApiError.of(400, "malformed_json", "The body must be a JSON object");
    }
  }

  public static String optionalString(JsonObject json, String field, int maxLength) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.isBlank() || s.length() > maxLength) {
      throw ApiError.invalidField(field, field + " must be a non-empty string of at most " + maxLength + " characters");
    }
    String problem = StorableText.problem(s);
    if (problem != null) {
      throw ApiError.invalidField(field, field + " " + problem);
    }
    return s;
  }

  public static String requiredString(JsonObject json, String field, int maxLength) {
    String s = optionalString(json, field, maxLength);
    if (s == null) {
      throw ApiError.invalidField(field, field + " is required");
    }
    return s;
  }

  public static Long optionalLong(JsonObject json, String field, long min, long max) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < min || ((Number) v).longValue() > max) {
      throw ApiError.invalidField(field, field + " must be an integer between " + min + " and " + max);
    }
    return ((Number) v).longValue();
  }

  public static Boolean optionalBoolean(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v != null && !(v instanceof Boolean)) {
      throw ApiError.invalidField(field, field + " must be true or false");
    }
    return (Boolean) v;
  }

  /** {@code ?limit=} for list endpoints. */
  public static int limit(RoutingContext ctx) {
    String raw = ctx.queryParams().get("limit");
    if (raw == null) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(raw);
      if (n >= 1 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ApiError.invalidField("limit", "limit must be an integer between 1 and " + MAX_LIMIT);
  }

  /**
   * One page of a list: {@code {"items":[...],"nextCursor":...}}. The cursor is the key of the last item
   * when the page is full (there may be more), otherwise null; lists are keyset-paginated so a page
   * stays cheap however deep it is.
   */
  public static <T> JsonObject page(List<T> items, int limit, Function<T, JsonObject> json, Function<T, String> key) {
    io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
    items.forEach(item -> out.add(json.apply(item)));
    String next = items.size() == limit && !items.isEmpty() ? key.apply(items.get(items.size() - 1)) : null;
    return new JsonObject().put("items", out).put("nextCursor", next);
  }

  /** An optional query parameter; an empty one counts as absent, a control character is refused. */
  public static String query(RoutingContext ctx, String name, int maxLength) {
    String v = ctx.queryParams().get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    String problem = v.length() > maxLength ? "must be at most " + maxLength + " characters" : StorableText.problem(v);
    if (problem != null) {
      throw ApiError.invalidField(name, name + " " + problem);
    }
    return v;
  }

  /**
   * Runs a handler that produces JSON; answers it with the status, or renders the failure. A result that
   * comes after the request's deadline answered is dropped (the deadline's 503 stands).
   */
  public static void respond(RoutingContext ctx, int status, Function<RoutingContext, Future<JsonObject>> handler) {
    Future<JsonObject> result;
    try {
      result = handler.apply(ctx);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (RequestDeadline.answered(ctx)) {
        return;
      }
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      ctx.response()
          .setStatusCode(status)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(ar.result().toBuffer());
    });
  }
}
