package io.postback.gateway.ops;

import com.fasterxml.jackson.core.JsonGenerator;
import io.postback.gateway.http.ClientAddress;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import net.logstash.logback.argument.StructuredArgument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Gives every request an id (the caller's {@code x-request-id} when it is sane, else a new one),
 * echoes it in the response, and writes one structured access line when the response ends: method,
 * route template, status, latency, surface, client address. Headers and bodies are never logged, so neither are
 * signatures, secrets or tokens.
 */
public final class AccessLog implements Handler<RoutingContext> {
  public static final CharSequence REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
  private static final Logger LOG = LoggerFactory.getLogger("access");
  private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String given = req.getHeader(REQUEST_ID);
    String requestId = given != null && SANE_ID.matcher(given).matches() ? given : Ids.timeOrdered("req");
    ctx.response().putHeader(REQUEST_ID, requestId);
    long start = System.nanoTime();
    ctx.addEndHandler(v -> {
      if (!LOG.isInfoEnabled()) {
        return;
      }
      Route route = ctx.currentRoute();
      String surface = req.getHeader("x-ea-surface");
      if (surface == null) {
        surface = queryParam(req, "surface");
      }
      if (!Surface.validId(surface)) {
        surface = null;   // only well-formed ids are logged: the value is the client's
      }
      int status = ctx.response().getStatusCode();
      String path = route != null && route.getPath() != null ? route.getPath() : "(unmatched)";
      LOG.info("{} {} {}", req.method(), path, status, new Fields(requestId, status,
          (System.nanoTime() - start) / 1_000_000.0, surface, ClientAddress.of(ctx)));
    });
    ctx.next();
  }

  /**
   * The line's fields, written straight into the line's JSON by the logging thread: one argument
   * instead of one per field, each written as what it is (no serializer looked up per value).
   */
  private record Fields(String requestId, int status, double latencyMs, String surface, String ip)
      implements StructuredArgument {
    @Override
    public void writeTo(JsonGenerator g) throws IOException {
      g.writeStringField("requestId", requestId);
      g.writeNumberField("status", status);
      g.writeNumberField("latencyMs", latencyMs);
      g.writeStringField("surface", surface);
      g.writeStringField("ip", ip);
    }

    @Override
    public String toString() {
      return "requestId=" + requestId + ", status=" + status + ", latencyMs=" + latencyMs + ", surface=" + surface
          + ", ip=" + ip;
    }
  }

  /** A query parameter, or null when the query is not valid percent-encoding (that request got its 400). */
  private static String queryParam(HttpServerRequest req, String name) {
    try {
      return req.getParam(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
