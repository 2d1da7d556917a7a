package io.postback.gateway.http;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.postback.gateway.conversion.InvalidConversion;
import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * The one place that turns a failure into an HTTP answer: JSON {@code {"error","message"}}, never a
 * stack trace. Dependency failures become 503 with Retry-After ("not recorded; retry is safe").
 */
public final class ErrorResponder {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponder.class);

  private ErrorResponder() {
  }

  /** Router failure handler: covers failed contexts (413 from the body handler, 404, 405) and thrown errors. */
  public static void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    send(ctx, failure != null ? classify(failure) : forStatus(ctx.statusCode()));
  }

  public static void send(RoutingContext ctx, ApiError error) {
    if (RequestDeadline.answered(ctx)) {
      // Answered already (by the request's deadline) or the client is gone: nothing more to send.
      return;
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    JsonObject body = new JsonObject().put("error", error.code()).put("message", error.getMessage());
    if (error.field() != null) {
      body.put("field", error.field());
    }
    if (error.retryAfterSeconds() != null) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(error.retryAfterSeconds()));
    }
    ctx.response()
        .setStatusCode(error.status())
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .end(body.toBuffer());
  }

  /** Maps any failure to the error the client should see, and logs the ones that are ours to look at. */
  public static ApiError classify(Throwable failure) {
    return map(failure, true);
  }

  /** The error code {@link #classify} answers for the failure, without logging it (its answer logs it once). */
  public static String code(Throwable failure) {
    return map(failure, false).code();
  }

  private static ApiError map(Throwable failure, boolean log) {
    if (failure instanceof ApiError api) {
      return api;
    }
    if (failure instanceof HttpException http) {
      // The OpenAPI router's validation fails a request with a 400 that wraps what the contract refused.
      return http.getCause() instanceof ValidatorException refused ? ContractViolation.of(refused)
          : forStatus(http.getStatusCode());
    }
    if (failure instanceof InvalidConversion invalid) {
      return ApiError.invalidField(invalid.field(), invalid.getMessage());
    }
    if (isDependencyFailure(failure)) {
      if (log) {
        LOG.warn("dependency failure: {}", failure.toString());
      }
      return ApiError.unavailable("A storage dependency");
    }
    if (log) {
      LOG.error("unexpected failure", failure);
    }
    return ApiError.of(500, "internal_error", "The gateway failed unexpectedly; nothing was recorded, retry later");
  }

  /** Connection-level and server-side-unavailable failures of Postgres or Redis: the request may be retried. */
  public static boolean isDependencyFailure(Throwable failure) {
    if (failure == null) {
      return false;
    }
    if (failure instanceof PgException pg) {
      String state = pg.getSqlState();
      // 08: connection, 53: insufficient resources, 57: operator intervention (shutdown), 40: tx rollback
      return state != null && (state.startsWith("08") || state.startsWith("53") || state.startsWith("57")
          || state.startsWith("40"));
    }
    return failure instanceof ClosedConnectionException
        || isPoolExhausted(failure)
        || failure instanceof IOException
        || failure instanceof ConnectTimeoutException
        || failure instanceof TimeoutException
        || (failure instanceof VertxException && failure.getCause() != null && isDependencyFailure(failure.getCause()))
        || (failure.getCause() != null && failure.getCause() != failure && isDependencyFailure(failure.getCause()));
  }

  /**
   * A connection pool that could not lend a connection: its wait queue was full, or no connection came
   * free in time (the sql client signals that with a bare VertxException of this message). Overload, or a
   * stalled dependency: the request may be retried.
   */
  public static boolean isPoolExhausted(Throwable failure) {
    return failure instanceof ConnectionPoolTooBusyException
        || (failure instanceof VertxException && failure.getCause() == null
            && "Timeout waiting for connection".equals(failure.getMessage()));
  }

  private static ApiError forStatus(int status) {
    return switch (status) {
      case 404 -> ApiError.of(404, "not_found", "No such route");
      case 405 -> ApiError.of(405, "method_not_allowed", "This route does not accept that method");
      case 413 -> ApiError.of(413, "body_too_large", "The request body is larger than the limit");
      case 415 -> ApiError.of(415, "unsupported_media_type", "Send content-type: application/json");
      case 400 -> ApiError.of(400, "bad_request", "The request is malformed");
      default -> status >= 400 && status < 500
          ? ApiError.of(status, "bad_request", "The request was refused")
          : ApiError.of(500, "internal_error", "The gateway failed unexpectedly; nothing was recorded, retry later");
    };
  }
}
