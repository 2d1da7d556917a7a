package io.postback.gateway.http;

import io.netty.handler.codec.http.HttpHeaderValues;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.RequestDeadline;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RouterBuilder;

import java.util.List;
import java.util.function.Function;

/** Small shared pieces of the admin API: reading a JSON body, typed fields, answering. */
public final class AdminJson {
  public static final int DEFAULT_LIMIT = 50;

  private AdminJson() {
  }

  /*
   * The OpenAPI contract has already checked every admin request against its operation (types, required
   * fields, lengths, ranges, patterns) before a handler runs, so these readers only take values out and add
   * what a schema cannot say.
   */

  /** The request body, a JSON object by contract; an absent body is an empty object. */
  public static JsonObject body(RoutingContext ctx) {
    JsonObject json = ctx.body() == null || ctx.body().length() <= 0 ? null : ctx.body().asJsonObject();
    return json == null ? new JsonObject() : json;
  }

  /** A text field, refused when blank or not storable (a control character, an unpaired surrogate). */
  public static String optionalString(JsonObject json, String field) {
    String s = json.getString(field);
    if (s == null) {
      return null;
    }
    String problem = s.isBlank() ? "must not be blank" : StorableText.problem(s);
    if (problem != null) {
      throw ApiError.invalidField(field, field + " " + problem);
    }
    return s;
  }

  /** A text field the operation requires (the contract refused its absence; a JSON null is refused here). */
  public static String requiredString(JsonObject json, String field) {
    String s = optionalString(json, field);
    if (s == null) {
      throw ApiError.invalidField(field, field + " is required");
    }
    return s;
  }

  public static Long optionalLong(JsonObject json, String field) {
    return json.getLong(field);
  }

  public static Boolean optionalBoolean(JsonObject json, String field) {
    return json.getBoolean(field);
  }

  /** {@code ?limit=} of a list endpoint (an integer from 1 to 500 by contract). */
  public static int limit(RoutingContext ctx) {
    String raw = ctx.queryParams().get("limit");
    return raw == null ? DEFAULT_LIMIT : Integer.parseInt(raw);
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
   * Serves the document's operation {@code operationId} with {@code handler}, answering {@code status}. The
   * router builder puts the contract's request validation in front of it.
   */
  public static void mount(RouterBuilder api, String operationId, int status,
                           Function<RoutingContext, Future<JsonObject>> handler) {
    OpenAPIRoute route = api.getRoute(operationId);
    if (route == null) {
      throw new IllegalStateException("The OpenAPI document has no operation " + operationId);
    }
    // The admin token is checked by AdminGate before any admin route (and before a body is read), so the
    // builder's own security handlers are not used.
    route.setDoSecurity(false).addHandler(ctx -> respond(ctx, status, handler));
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
          .putHeader(HttpHeaders.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .end(ar.result().toBuffer());
    });
  }
}
