package io.postback.gateway.surface;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** An IPv4 or IPv6 network in CIDR notation ({@code 203.0.113.0/24}, {@code 2001:db8::/32}, or one address). */
public record Cidr(byte[] network, int prefix, String text) {
  // Literal addresses only: InetAddress.getByName must never resolve a host name.
  private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

  /** Parses the notation; throws IllegalArgumentException naming the value when it is not one. */
  public static Cidr parse(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String host = slash < 0 ? t : t.substring(0, slash);
    byte[] address = literal(host);
    if (address == null) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32");
    }
    int max = address.length * 8;
    int prefix;
    try {
      prefix = slash < 0 ? max : Integer.parseInt(t.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has an invalid prefix length");
    }
    if (prefix < 0 || prefix > max) {
      throw new IllegalArgumentException("'" + text + "' has a prefix length outside 0.." + max);
    }
    return new Cidr(address, prefix, t);
  }

  public boolean contains(String address) {
    byte[] a = literal(address);
    if (a == null || a.length != network.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (network[full] & mask);
  }

  private static byte[] literal(String host) {
    if (host == null || host.isEmpty() || !LITERAL.matcher(host).matches()) {
      return null;
    }
    try {
      // Java returns an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4, so it compares as IPv4.
      return InetAddress.getByName(host).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
