package io.postback.gateway.ingest;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ErrorResponder;
import io.postback.gateway.ops.GatewayMetrics;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.time.Duration;
import java.time.Instant;

/**
 * {@code POST /v1/conversions}: the signed JSON postback of SPEC §3.1. Checks run cheapest and most
 * fundamental first: size and type, surface, timestamp, signature over the raw bytes, and only then
 * is the body parsed.
 */
public final class IngestRoutes {
  public static final String SURFACE_HEADER = "x-ea-surface";
  public static final String TIMESTAMP_HEADER = "x-ea-timestamp";
  public static final String SIGNATURE_HEADER = "x-ea-signature";

  private final SurfaceRegistry surfaces;
  private final ConversionPipeline pipeline;
  private final GatewayMetrics metrics;
  private final Duration defaultTolerance;
  private final int bodyLimit;

  public IngestRoutes(SurfaceRegistry surfaces, ConversionPipeline pipeline, GatewayMetrics metrics,
                      Duration defaultTolerance, int bodyLimit) {
    this.surfaces = surfaces;
    this.pipeline = pipeline;
    this.metrics = metrics;
    this.defaultTolerance = defaultTolerance;
    this.bodyLimit = bodyLimit;
  }

  public void mount(Router router) {
    router.post("/v1/conversions")
        .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
        .handler(this::conversion);
  }

  private void conversion(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String contentType = req.getHeader(HttpHeaders.CONTENT_TYPE);
    if (contentType == null || !contentType.regionMatches(true, 0, "application/json", 0, 16)) {
      reject(ctx, ApiError.of(415, "unsupported_media_type", "Send content-type: application/json"));
      return;
    }
    byte[] body = bodyBytes(ctx);
    authenticate(req, body)
        .compose(surface -> {
          ConversionRequest conversion = JsonConversionParser.parse(body).validate(surface.id(), Instant.now());
          return pipeline.submit(surface, conversion);
        })
        .onSuccess(answer -> ctx.response()
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(answer.body().toBuffer()))
        .onFailure(e -> reject(ctx, ErrorResponder.classify(e)));
  }

  /**
   * Resolves the surface and verifies timestamp and signature (SPEC §3.1). Shared by every signed
   * form; the future fails with the 401 to answer.
   */
  public Future<Surface> authenticate(HttpServerRequest req, byte[] body) {
    String surfaceId = req.getHeader(SURFACE_HEADER);
    if (surfaceId == null || surfaceId.isEmpty()) {
      return Future.failedFuture(ApiError.of(401, "unknown_surface", "The x-ea-surface header is missing"));
    }
    String timestamp = req.getHeader(TIMESTAMP_HEADER);
    String signature = req.getHeader(SIGNATURE_HEADER);
    return surfaces.find(surfaceId).map(surface -> {
      if (surface == null) {
        throw ApiError.of(401, "unknown_surface", "No surface with id " + surfaceId);
      }
      Instant now = Instant.now();
      checkTimestamp(surface, timestamp, now);
      if (signature == null || signature.isEmpty()) {
        throw ApiError.of(401, "missing_signature", "The x-ea-signature header is missing");
      }
      boolean valid = SignatureVerifier.verify(surface.secret(), timestamp, body, signature);
      if (!valid && surface.previousKey(now) != null) {
        valid = SignatureVerifier.verify(surface.previousSecret(), timestamp, body, signature);
      }
      if (!valid) {
        throw ApiError.of(401, "bad_signature",
            "The signature does not match HMAC-SHA256(secret, \"<timestamp>.<raw body>\")");
      }
      return surface;
    });
  }

  private void checkTimestamp(Surface surface, String timestamp, Instant now) {
    if (timestamp == null || timestamp.isEmpty()) {
      throw ApiError.of(401, "missing_timestamp", "The x-ea-timestamp header is missing");
    }
    long millis;
    try {
      millis = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      throw ApiError.of(401, "invalid_timestamp", "x-ea-timestamp must be Unix time in milliseconds");
    }
    Duration tolerance = surface.timestampTolerance() != null ? surface.timestampTolerance() : defaultTolerance;
    if (Math.abs(now.toEpochMilli() - millis) > tolerance.toMillis()) {
      throw ApiError.of(401, "stale_timestamp", "x-ea-timestamp is more than " + tolerance.toSeconds()
          + " s away from the server clock; sign each request (and each retry) with the current time");
    }
  }

  private void reject(RoutingContext ctx, ApiError error) {
    metrics.postback("rejected", error.code());
    ErrorResponder.send(ctx, error);
  }

  static byte[] bodyBytes(RoutingContext ctx) {
    Buffer buffer = ctx.body().buffer();
    return buffer == null ? new byte[0] : buffer.getBytes();
  }
}
