package io.postback.gateway.delivery;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.Map;

/**
 * Refuses webhook destinations that resolve to loopback, private, link-local (cloud metadata
 * 169.254.169.254 included), unique-local, multicast or otherwise internal addresses, unless
 * configured to allow them. Checked at registration and again before every connection: the sender
 * connects to the very address checked here, so a DNS answer that changes in between cannot slip by.
 * Resolution runs on a worker thread (never on the event loop) and is cached briefly.
 */
public final class DestinationGuard {
  private static final long CACHE_MS = 10_000;
  private static final byte[] TEREDO = {0x20, 0x01, 0, 0};
  private static final byte[] LOCAL_NAT64 = {0, 0x64, (byte) 0xff, (byte) 0x9b, 0, 1};
  private static final byte[] NAT64 = {0, 0x64, (byte) 0xff, (byte) 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  private static final byte[] SIX_TO_FOUR = {0x20, 0x02};

  private final Vertx vertx;
  private final boolean allowPrivate;
  private final Map<String, Resolved> cache = new HashMap<>();

  /** A host's checked address, or the reason it is refused. */
  public record Resolved(InetAddress address, String refusal, long expiresAt) {
  }

  /** A parsed destination URL. */
  public record Destination(boolean ssl, String host, int port, String pathAndQuery) {
  }

  public DestinationGuard(Vertx vertx, boolean allowPrivate) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
  }

  /** Parses an http(s) URL; throws IllegalArgumentException with a human reason. */
  public static Destination parse(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("url is not a valid URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("url must be an http or https URL");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("url must name a host");
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("url must not carry credentials");
    }
    boolean ssl = scheme.equals("https");
    String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
    int port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    return new Destination(ssl, host, port, uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery());
  }

  /** Resolves and checks a host; the future fails with {@link RefusedDestination} for a forbidden one. */
  public Future<InetAddress> check(String host) {
    long now = System.currentTimeMillis();
    Resolved hit = cache.get(host);
    if (hit != null && hit.expiresAt() > now) {
      return outcome(host, hit);
    }
    return vertx.executeBlocking(() -> resolve(host), false).compose(r -> {
      cache.put(host, r);
      return outcome(host, r);
    });
  }

  private static Future<InetAddress> outcome(String host, Resolved r) {
    return r.refusal() == null ? Future.succeededFuture(r.address())
        : Future.failedFuture(new RefusedDestination(host + " " + r.refusal()));
  }

  private Resolved resolve(String host) {
    long expires = System.currentTimeMillis() + CACHE_MS;
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (java.net.UnknownHostException e) {
      return new Resolved(null, "does not resolve", expires);
    }
    // Every address must be acceptable: otherwise the host could be steered to the forbidden one.
    for (InetAddress a : all) {
      if (!allowPrivate && isInternal(a)) {
        return new Resolved(null, "resolves to the internal address " + a.getHostAddress(), expires);
      }
    }
    return new Resolved(all[0], null, expires);
  }

  /**
   * Loopback, private, link-local, unique-local, multicast, CGNAT and other non-public addresses, and IPv6
   * addresses that lead to one (an embedded internal IPv4, Teredo, local-use NAT64).
   */
  public static boolean isInternal(InetAddress a) {
    if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return true;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int b0 = b[0] & 0xff;
      int b1 = b[1] & 0xff;
      return b0 == 0                                   // "this network"
          || (b0 == 100 && b1 >= 64 && b1 < 128)       // carrier-grade NAT 100.64/10
          || (b0 == 192 && b1 == 0 && (b[2] & 0xff) == 0) // IETF protocol assignments 192.0.0/24
          || (b0 == 198 && (b1 == 18 || b1 == 19))     // benchmarking 198.18/15
          || b0 >= 240;                                // reserved and broadcast
    }
    if (a instanceof Inet6Address) {
      int b0 = b[0] & 0xff;
      if ((b0 & 0xfe) == 0xfc) {                       // unique local fc00::/7 (incl. fd00:ec2::254)
        return true;
      }
      // Teredo 2001::/32 is refused whatever it embeds: the packets go through a relay to a client behind
      // a NAT (client IPv4 = last 32 bits XOR 0xffffffff), the service is retired, and no webhook receiver
      // has such an address. The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) is not globally
      // reachable by definition, and where it embeds its IPv4 depends on a local choice of prefix length.
      if (startsWith(b, TEREDO, 4) || startsWith(b, LOCAL_NAT64, 6)) {
        return true;
      }
      byte[] embedded = embeddedIPv4(b);
      if (embedded != null) {
        try {
          return isInternal(InetAddress.getByAddress(embedded));
        } catch (java.net.UnknownHostException e) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The IPv4 address an IPv6 address carries to an IPv4 host, whose reachability is what counts:
   * IPv4-mapped {@code ::ffff:a.b.c.d}, IPv4-compatible {@code ::a.b.c.d} (deprecated, still routed by
   * some stacks), NAT64 {@code 64:ff9b::a.b.c.d} (RFC 6052) and 6to4 {@code 2002:AABB:CCDD::/48}
   * (RFC 3056); null for any other address.
   */
  static byte[] embeddedIPv4(byte[] b) {
    boolean zeros = true;
    for (int i = 0; i < 10; i++) {
      zeros &= b[i] == 0;
    }
    boolean mapped = zeros && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    boolean compatible = zeros && b[10] == 0 && b[11] == 0;
    if (mapped || compatible || startsWith(b, NAT64, NAT64.length)) {
      return new byte[] {b[12], b[13], b[14], b[15]};
    }
    if (startsWith(b, SIX_TO_FOUR, 2)) {
      return new byte[] {b[2], b[3], b[4], b[5]};
    }
    return null;
  }

  private static boolean startsWith(byte[] address, byte[] prefix, int length) {
    for (int i = 0; i < length; i++) {
      if (address[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** A destination that must not be contacted. */
  public static final class RefusedDestination extends RuntimeException {
    public RefusedDestination(String message) {
      super(message, null, false, false);
    }
  }
}
