package io.postback.gateway.http;

import io.netty.util.NetUtil;
import io.postback.gateway.net.Cidr;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Locale;

/**
 * The one answer to "which address is the client": resolved once per request, first thing, and read
 * with {@link #of} wherever an address is used (surface allowlists, postback log, click rows, the click
 * per-address limit, the access log).
 *
 * <p>By default it is the socket peer. With the PROXY protocol on (a setting of the HTTP server) the peer
 * is the source named in the connection's PROXY header. {@code X-Forwarded-For} is believed only when that
 * peer is one of the configured trusted proxies; then the entries are read from the right (the ones our own
 * proxies appended) and the client is the right-most entry that is not itself a trusted proxy: entries
 * further left were written by whoever sent the request and prove nothing. If every entry is a trusted
 * proxy, the left-most is the client; an entry that is not an IP address ends the walk at the last
 * trusted hop (a proxy of ours should never write one).
 */
public final class ClientAddress implements Handler<RoutingContext> {
  private static final String KEY = "clientAddress";
  private static final String TRUSTED_PEER = "clientAddress.trustedPeer";
  private static final String FORWARDED_FOR = "x-forwarded-for";
  private static final String FORWARDED_PROTO = "x-forwarded-proto";

  private final List<Cidr> trustedProxies;

  public ClientAddress(List<Cidr> trustedProxies) {
    this.trustedProxies = trustedProxies;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String peer = peer(req);
    // The peer's address is parsed and matched once: it decides both the client and the scheme.
    if (trustedProxies.isEmpty() || !trusted(Cidr.address(peer))) {
      ctx.put(KEY, peer);
    } else {
      ctx.put(KEY, forwardedClient(req, peer));
      ctx.put(TRUSTED_PEER, Boolean.TRUE);
    }
    ctx.next();
  }

  /**
   * The scheme the client used, for URLs the gateway hands out (portal links): {@code X-Forwarded-Proto}
   * when a trusted proxy sent it (TLS usually ends there), otherwise the connection's own.
   */
  public static String scheme(RoutingContext ctx) {
    if (Boolean.TRUE.equals(ctx.get(TRUSTED_PEER))) {
      String proto = ctx.request().getHeader(FORWARDED_PROTO);
      if ("https".equalsIgnoreCase(proto) || "http".equalsIgnoreCase(proto)) {
        return proto.toLowerCase(Locale.ROOT);
      }
    }
    return ctx.request().scheme();
  }

  /** The client address of the request (as resolved by the handler; the socket peer where it did not run). */
  public static String of(RoutingContext ctx) {
    String resolved = ctx.get(KEY);
    return resolved != null ? resolved : peer(ctx.request());
  }

  /** The client named by X-Forwarded-For, read from the right, for a request whose peer is a trusted proxy. */
  private String forwardedClient(HttpServerRequest req, String peer) {
    List<String> headers = req.headers().getAll(FORWARDED_FOR);
    String client = peer;
    for (int h = headers.size() - 1; h >= 0; h--) {
      String[] entries = headers.get(h).split(",");
      for (int i = entries.length - 1; i >= 0; i--) {
        byte[] address = Cidr.address(withoutPort(entries[i].trim()));
        if (address == null) {
          return client;
        }
        client = NetUtil.bytesToIpAddress(address);
        if (!trusted(address)) {
          return client;
        }
      }
    }
    return client;
  }

  private boolean trusted(byte[] address) {
    for (Cidr cidr : trustedProxies) {
      if (cidr.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** {@code [2001:db8::1]:443} and {@code 203.0.113.5:8080} (some balancers add the port) to the bare address. */
  private static String withoutPort(String entry) {
    if (entry.startsWith("[")) {
      int close = entry.indexOf(']');
      return close < 0 ? entry : entry.substring(1, close);
    }
    int colon = entry.indexOf(':');
    return colon > 0 && entry.indexOf(':', colon + 1) < 0 ? entry.substring(0, colon) : entry;
  }

  /**
   * The connection's peer (with the PROXY protocol, the source its header names). Read from the
   * connection, not the request: Vert.x Web's request wrapper parses Forwarded headers for its own
   * remoteAddress on every request, which this class does its own way.
   */
  private static String peer(HttpServerRequest req) {
    SocketAddress remote = req.connection().remoteAddress();
    if (remote == null) {
      return null;
    }
    return remote.hostAddress() != null ? remote.hostAddress() : remote.host();
  }
}
