package io.postback.gateway.ingest;

import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.RouteOrder;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * The signed forms: {@code POST /v1/conversions} (SPEC §3.1) and {@code POST /v1/track/{eventType}}
 * with an Idempotency-Key (SPEC §3.2). Checks run cheapest and most fundamental first: size and type,
 * surface, source address, timestamp, signature over the raw bytes, rate limit, and only then is the
 * body parsed. {@link #authenticate} is shared with the batch form, {@link #validate} with every form.
 *
 * <p>A track call's signature covers the method, the route's path with the (decoded) event type and the
 * Idempotency-Key as well as the body: {@code "<ts>.POST /v1/track/<eventType>\n<Idempotency-Key>\n<body>"},
 * so one captured call cannot be replayed as another event or under another key.
 */
public final class IngestRoutes {
  public static final String SURFACE_HEADER = "x-ea-surface";
  public static final String TIMESTAMP_HEADER = "x-ea-timestamp";
  public static final String SIGNATURE_HEADER = "x-ea-signature";
  public static final String IDEMPOTENCY_KEY_HEADER = "idempotency-key";
  private static final byte[] EMPTY_OBJECT = {'{', '}'};
  private static final String BODY_SIGNATURE =
      "The signature does not match HMAC-SHA256(secret, \"<timestamp>.<raw body>\")";
  private static final String TRACK_SIGNATURE = "The signature does not match HMAC-SHA256(secret, "
      + "\"<timestamp>.POST /v1/track/<eventType>\\n<Idempotency-Key>\\n<raw body>\")";

  private final SurfaceRegistry surfaces;
  private final ConversionPipeline pipeline;
  private final GatewayMetrics metrics;
  private final SurfaceGuard guard;
  private final PostbackLog log;
  private final PostbackVerifier verifier;
  private final int bodyLimit;
  private final Duration refundBackdateLimit;

  public IngestRoutes(SurfaceRegistry surfaces, ConversionPipeline pipeline, GatewayMetrics metrics, SurfaceGuard guard,
                      PostbackLog log, Duration defaultTolerance, int bodyLimit, Duration refundBackdateLimit) {
    this.surfaces = surfaces;
    this.pipeline = pipeline;
    this.metrics = metrics;
    this.guard = guard;
    this.log = log;
    this.verifier = new PostbackVerifier(defaultTolerance);
    this.bodyLimit = bodyLimit;
    this.refundBackdateLimit = refundBackdateLimit;
  }

  public void mount(Router router) {
    router.post("/v1/conversions").order(RouteOrder.HOT_PATH)
        .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
        .handler(this::conversion)
        .failureHandler(ctx -> tooLarge(ctx, () -> attempt(ctx, "conversions"), bodyLimit));
    router.post("/v1/track/:eventType").order(RouteOrder.HOT_PATH)
        .handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
        .handler(this::track)
        .failureHandler(ctx -> tooLarge(ctx, () -> attempt(ctx, "track"), bodyLimit));
  }

  IngestAttempt attempt(RoutingContext ctx, String form) {
    return new IngestAttempt(ctx, form, metrics, log, surfaces);
  }

  /**
   * The body handler refuses a body over the limit (413) before any handler of the form runs: answered
   * here like every other rejection, so it shows in the postback log and gateway_postbacks_total.
   */
  static void tooLarge(RoutingContext ctx, Supplier<IngestAttempt> attempt, long limit) {
    if (ctx.statusCode() != 413 || ctx.failure() != null) {
      ctx.next();
      return;
    }
    attempt.get().fail(ApiError.of(413, "body_too_large", "The request body is larger than the limit of " + limit + " bytes"));
  }

  private void conversion(RoutingContext ctx) {
    IngestAttempt attempt = attempt(ctx, "conversions");
    if (!isJson(ctx.request())) {
      attempt.fail(ApiError.of(415, "unsupported_media_type", "Send content-type: application/json"));
      return;
    }
    byte[] body = bodyBytes(ctx);
    attempt.finish(authenticate(ctx.request(), body, attempt).compose(surface -> {
      ConversionDraft draft = JsonConversionParser.parse(body);
      attempt.track(draft);
      return pipeline.submit(surface, validate(draft, surface, Instant.now()));
    }));
  }

  /** The one validation of every form, with the gateway's bounds. */
  ConversionRequest validate(ConversionDraft draft, Surface surface, Instant receivedAt) {
    return draft.validate(surface.id(), receivedAt, refundBackdateLimit);
  }

  /** SPEC §3.2: the path names the event, the Idempotency-Key header is the externalId; the body is optional. */
  private void track(RoutingContext ctx) {
    IngestAttempt attempt = attempt(ctx, "track");
    byte[] body = bodyBytes(ctx);
    if (body.length > 0 && !isJson(ctx.request())) {
      attempt.fail(ApiError.of(415, "unsupported_media_type", "Send content-type: application/json"));
      return;
    }
    List<String> keys = ctx.request().headers().getAll(IDEMPOTENCY_KEY_HEADER);
    if (keys.size() > 1) {
      attempt.fail(ApiError.invalidField("Idempotency-Key", "Send one Idempotency-Key header, not " + keys.size()));
      return;
    }
    // Header values arrive as bytes, one char each: their ISO-8859-1 encoding gives back the bytes sent.
    byte[] keyBytes = keys.isEmpty() ? new byte[0] : keys.get(0).getBytes(StandardCharsets.ISO_8859_1);
    String eventType = ctx.pathParam("eventType");
    byte[] signedContent = trackSignedContent(eventType, keyBytes, body);
    attempt.finish(authenticate(ctx.request(), signedContent, attempt).compose(surface -> {
      String key = idempotencyKey(keyBytes);
      ConversionDraft draft = JsonConversionParser.parse(body.length == 0 ? EMPTY_OBJECT : body);
      draft.externalId = key;
      draft.eventType = eventType;
      attempt.track(draft);
      return pipeline.submit(surface, validate(draft, surface, Instant.now()));
    }));
  }

  /**
   * What a track call's signature covers after {@code "<ts>."}: {@code "POST /v1/track/<eventType>\n"}, the
   * Idempotency-Key's bytes as sent, {@code "\n"}, the raw body. The event type is the decoded path
   * segment (the value that takes effect), so the form does not depend on how a client or proxy
   * percent-encodes the path, nor on a prefix a proxy mounts the gateway under.
   */
  static byte[] trackSignedContent(String eventType, byte[] idempotencyKey, byte[] body) {
    byte[] head = ("POST /v1/track/" + eventType + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + idempotencyKey.length + 1 + body.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(idempotencyKey, 0, out, head.length, idempotencyKey.length);
    out[head.length + idempotencyKey.length] = '\n';
    System.arraycopy(body, 0, out, head.length + idempotencyKey.length + 1, body.length);
    return out;
  }

  /** The Idempotency-Key as text: required, valid UTF-8, and a valid externalId, or a 400 naming the header. */
  private static String idempotencyKey(byte[] raw) {
    if (raw.length == 0) {
      throw ApiError.invalidField("Idempotency-Key", "The Idempotency-Key header is required: it is the conversion's "
          + "externalId, so that a retried call is recognised");
    }
    String key;
    try {
      key = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(raw)).toString();
    } catch (CharacterCodingException e) {
      throw ApiError.invalidField("Idempotency-Key", "The Idempotency-Key header is not valid UTF-8");
    }
    ConversionDraft.requireText("Idempotency-Key", key, ConversionDraft.MAX_EXTERNAL_ID);
    return key;
  }

  /**
   * Resolves the surface, checks the source address, verifies timestamp and signature (SPEC §3.1) and
   * takes a rate-limit token. Shared by every signed form; the future fails with the error to answer.
   * The rate limit comes last so that forged requests cannot use up a merchant's budget.
   */
  Future<Surface> authenticate(HttpServerRequest req, byte[] signedContent, IngestAttempt attempt) {
    return verify(req, signedContent, attempt).compose(guard::checkRate);
  }

  /**
   * {@link #authenticate} without the rate limit, for the batch form: it is charged one token per item
   * once its items are counted (SurfaceGuard#checkRate(Surface, int)).
   */
  Future<Surface> verify(HttpServerRequest req, byte[] signedContent, IngestAttempt attempt) {
    return plausible(req, attempt).map(surface -> {
      verifier.checkSignature(surface, req.getHeader(TIMESTAMP_HEADER), signedContent, req.getHeader(SIGNATURE_HEADER),
          Instant.now(), req.path().startsWith("/v1/track/") ? TRACK_SIGNATURE : BODY_SIGNATURE);
      return surface;
    });
  }

  /**
   * What {@link #authenticate} checks before the body is needed: a known surface, an allowed source
   * address, a fresh timestamp and a signature header of the right form (64 hex digits). A route with a
   * large body runs this first, so that a request that cannot be authentic is refused before its body is
   * read.
   */
  Future<Surface> plausible(HttpServerRequest req, IngestAttempt attempt) {
    String surfaceId = req.getHeader(SURFACE_HEADER);
    if (surfaceId == null || surfaceId.isEmpty()) {
      return Future.failedFuture(ApiError.of(401, "unknown_surface", "The x-ea-surface header is missing"));
    }
    if (!Surface.validId(surfaceId)) {
      return Future.failedFuture(ApiError.of(401, "unknown_surface", "No surface has that id"));
    }
    String timestamp = req.getHeader(TIMESTAMP_HEADER);
    String signature = req.getHeader(SIGNATURE_HEADER);
    return surfaces.find(surfaceId).map(surface -> {
      if (surface == null) {
        throw ApiError.of(401, "unknown_surface", "No surface with id " + surfaceId);
      }
      attempt.surface = surface;
      guard.checkSource(surface, attempt.clientAddress());
      verifier.checkTimestamp(surface, TIMESTAMP_HEADER, timestamp, Instant.now());
      verifier.checkSignatureForm(SIGNATURE_HEADER, signature);
      return surface;
    });
  }

  /** The credential checks of every form. */
  PostbackVerifier verifier() {
    return verifier;
  }

  static boolean isJson(HttpServerRequest req) {
    String contentType = req.getHeader(HttpHeaders.CONTENT_TYPE);
    return contentType != null && contentType.regionMatches(true, 0, "application/json", 0, 16);
  }

  static byte[] bodyBytes(RoutingContext ctx) {
    Buffer buffer = ctx.body().buffer();
    return buffer == null ? new byte[0] : buffer.getBytes();
  }
}
