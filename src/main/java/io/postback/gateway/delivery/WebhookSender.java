package io.postback.gateway.delivery;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.channel.ConnectTimeoutException;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * Sends one signed webhook attempt. Connections are pooled and kept alive per destination; redirects
 * are never followed (a 3xx is a failure); the attempt has a hard deadline; of the response body only
 * the first {@value #MAX_RESPONSE_BYTES} bytes are kept, and a receiver that answers more than
 * {@value #MAX_DRAIN_BYTES} bytes has its connection closed rather than read to the end. The host is
 * checked by the {@link DestinationGuard} right before the connection, and the request goes to exactly
 * the address that was checked.
 */
public final class WebhookSender {
  /** The first bytes of a response body kept for the attempt log (cleaned to storable text by the worker). */
  static final int MAX_RESPONSE_BYTES = 1024;
  /** How much of a response body is read at most; past it the connection is closed instead. */
  static final int MAX_DRAIN_BYTES = 64 * 1024;
  private static final String USER_AGENT = "PostbackGateway-Webhooks/1.0";
  private static final String POSTBACK_USER_AGENT = "PostbackGateway-Postbacks/1.0";
  private static final int CACHED = 10_000;

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final DestinationGuard guard;
  // Parsed once per destination, secret and template: bounded, so URLs, rotated secrets and edited
  // templates of the past do not stay in memory for the life of the process.
  private final Cache<String, DestinationGuard.Destination> parsed = bounded();
  private final Cache<String, byte[]> keys = bounded();
  private final Cache<String, PostbackTemplate> templates = bounded();

  /** How an attempt ended: a 2xx, anything else (an error status, a refused or broken connection), or no answer in time. */
  public enum Outcome {
    SUCCESS, FAILURE, TIMEOUT;

    private final String wire = name().toLowerCase(Locale.ROOT);

    /** As stored with the attempt and shown in metrics and the admin API. */
    public String wire() {
      return wire;
    }
  }

  /** What one attempt came to. */
  public record Result(Outcome outcome, Integer statusCode, String retryAfter, String error, String responseBody,
                       long nanos) {
    /** 410 Gone: the receiver says the endpoint is no more. */
    public boolean gone() {
      return statusCode != null && statusCode == 410;
    }

    static Result failure(String error) {
      return new Result(Outcome.FAILURE, null, null, error, null, 0);
    }
  }

  public WebhookSender(Vertx vertx, DestinationGuard guard, int maxConnectionsPerHost) {
    this.vertx = vertx;
    this.guard = guard;
    this.client = vertx.httpClientBuilder()
        .with(new HttpClientOptions()
            .setKeepAlive(true)
            .setKeepAliveTimeout(30)
            .setTcpNoDelay(true)
            .setMaxRedirects(0)
            .setDecompressionSupported(false)
            .setVerifyHost(true))
        .with(new PoolOptions().setHttp1MaxSize(maxConnectionsPerHost).setMaxWaitQueueSize(-1))
        .build();
  }

  /** The body integrators receive: {"id","event","timestamp","data"}; identical on every retry. */
  public static Buffer payload(DeliveryStore.Claimed d) {
    return Buffer.buffer("{\"id\":\"" + d.eventId() + "\",\"event\":\"" + d.eventType() + "\",\"timestamp\":\""
        + d.eventCreatedAt() + "\",\"data\":" + d.data() + "}");
  }

  /** The request of one attempt: where, how, with which headers and body (null: none). */
  private record Outbound(DestinationGuard.Destination dest, HttpMethod method, MultiMap headers, Buffer body) {
  }

  /**
   * Sends one attempt of {@code d}: the signed JSON envelope to a webhook endpoint, or the rendered request
   * of an affiliate postback template. Everything else (the guard, the deadline, what is kept of the
   * answer, success = 2xx) is the same for both.
   */
  public Future<Result> send(DeliveryStore.Claimed d, long timeoutMs) {
    long start = System.nanoTime();
    Outbound out;
    try {
      out = d.kind() == DestinationKind.AFFILIATE_POSTBACK ? postback(d) : webhook(d);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(new Result(Outcome.FAILURE, null, null, e.getMessage(), null, System.nanoTime() - start));
    }
    DestinationGuard.Destination dest = out.dest();
    Promise<Result> promise = Promise.promise();
    long deadline = vertx.setTimer(timeoutMs, id -> promise.tryComplete(
        new Result(Outcome.TIMEOUT, null, null, "no answer within " + timeoutMs + " ms", null, System.nanoTime() - start)));
    guard.check(dest.host())
        .compose(address -> {
          RequestOptions options = new RequestOptions()
              .setMethod(out.method())
              .setServer(SocketAddress.inetSocketAddress(dest.port(), address.getHostAddress()))
              .setHost(dest.host())
              .setPort(dest.port())
              .setSsl(dest.ssl())
              .setURI(dest.pathAndQuery())
              .setFollowRedirects(false)
              .setConnectTimeout(timeoutMs)
              .setIdleTimeout(timeoutMs)
              .setHeaders(out.headers());
          return client.request(options);
        })
        .compose(request -> {
          // The deadline may already have passed while connecting: then do not send at all.
          if (promise.future().isComplete()) {
            request.reset();
            return Future.failedFuture(new TimeoutException());
          }
          promise.future().onComplete(done -> {
            if (done.result() != null && done.result().outcome() == Outcome.TIMEOUT) {
              request.reset();
            }
          });
          return out.body() == null ? request.send() : request.send(out.body());
        })
        .onSuccess(response -> {
          Buffer head = Buffer.buffer();
          long[] read = {0};
          int code = response.statusCode();
          MultiMap headers = response.headers();
          boolean ok = code >= 200 && code < 300;
          Runnable answered = () -> promise.tryComplete(new Result(ok ? Outcome.SUCCESS : Outcome.FAILURE, code,
              headers.get("retry-after"), ok ? null : "HTTP " + code, head.length() == 0 ? null : head.toString(),
              System.nanoTime() - start));
          response.handler(chunk -> {
            int room = MAX_RESPONSE_BYTES - head.length();
            if (room > 0) {
              head.appendBuffer(chunk.length() <= room ? chunk : chunk.slice(0, room));
            }
            read[0] += chunk.length();
            if (read[0] > MAX_DRAIN_BYTES && !promise.future().isComplete()) {
              // The status is known: do not read megabytes for it (the connection cannot be reused then).
              answered.run();
              response.request().reset();
            }
          });
          response.exceptionHandler(e -> promise.tryComplete(failure(e, start)));
          response.endHandler(v -> answered.run());
        })
        .onFailure(e -> promise.tryComplete(failure(e, start)));
    return promise.future().andThen(ar -> vertx.cancelTimer(deadline));
  }

  private Outbound webhook(DeliveryStore.Claimed d) {
    DestinationGuard.Destination dest = parsed.get(d.url(), DestinationGuard::parse);
    Buffer body = payload(d);
    long ts = Instant.now().getEpochSecond();
    String signature = WebhookSigner.header(key(d.secret()), d.previousSecret() == null ? null : key(d.previousSecret()),
        d.eventId(), ts, body);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("content-type", "application/json")
        .add("user-agent", USER_AGENT)
        .add("webhook-id", d.eventId())
        .add("webhook-timestamp", Long.toString(ts))
        .add("webhook-signature", signature);
    return new Outbound(dest, HttpMethod.POST, headers, body);
  }

  /** The rendered template; the template was checked when saved, so a parse failure here is a failed attempt. */
  private Outbound postback(DeliveryStore.Claimed d) {
    if (d.postback() == null) {
      throw new IllegalArgumentException("the macro values of this delivery could not be read");
    }
    PostbackTemplate template = templates.get(d.method() + '\u0000' + d.url() + '\u0000' + d.bodyTemplate(),
        k -> PostbackTemplate.parse(d.url(), d.method(), d.bodyTemplate()));
    PostbackTemplate.Rendered r = template.render(d.postback(),
        d.signQuery() ? d.secret().getBytes(StandardCharsets.UTF_8) : null);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("user-agent", POSTBACK_USER_AGENT);
    if (r.contentType() != null) {
      headers.add("content-type", r.contentType());
    }
    return new Outbound(DestinationGuard.parse(r.url()), HttpMethod.valueOf(template.method()), headers,
        r.body() == null ? null : Buffer.buffer(r.body()));
  }

  private static Result failure(Throwable e, long start) {
    String message = e instanceof DestinationGuard.RefusedDestination ? "refused destination: " + e.getMessage()
        : e.getMessage() != null ? e.getClass().getSimpleName() + ": " + e.getMessage() : e.getClass().getSimpleName();
    return new Result(isTimeout(e) ? Outcome.TIMEOUT : Outcome.FAILURE, null, null, message, null,
        System.nanoTime() - start);
  }

  /**
   * A timeout, known by its type anywhere in the cause chain: the request's idle timeout (Vert.x's
   * NoStackTraceTimeoutException is a TimeoutException), the connect timeout, or the DNS lookup's.
   */
  static boolean isTimeout(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof TimeoutException || t instanceof ConnectTimeoutException
          || t instanceof DnsNameResolverTimeoutException) {
        return true;
      }
    }
    return false;
  }

  private byte[] key(String secret) {
    return keys.get(secret, WebhookSigner::key);
  }

  public Future<Void> close() {
    return client.close();
  }

  private static <V> Cache<String, V> bounded() {
    return Caffeine.newBuilder().maximumSize(CACHED).build();
  }
}
