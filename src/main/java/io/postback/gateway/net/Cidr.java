package io.postback.gateway.net;

import io.netty.util.NetUtil;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 203.0.113.0/24}, {@code 2001:db8::/32}, or one address).
 * Only address literals are accepted, parsed strictly (dotted quads, RFC 4291 text): nothing here ever
 * resolves a host name, so neither a configured network nor a client address can trigger a DNS query.
 */
public record Cidr(byte[] network, int prefix, String text) {

  /** Parses the notation; throws IllegalArgumentException naming the value when it is not one. */
  public static Cidr parse(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String host = slash < 0 ? t : t.substring(0, slash);
    byte[] address = address(host);
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

  /**
   * The bytes of an IP address literal (4 or 16), or null when {@code text} is not one. An IPv4-mapped
   * IPv6 address ({@code ::ffff:a.b.c.d}) comes back as its IPv4 address, so it compares as IPv4.
   */
  public static byte[] address(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    byte[] a = NetUtil.createByteArrayFromIpAddressString(text);
    if (a == null || a.length == 4) {
      return a;
    }
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return a;
      }
    }
    if ((a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff) {
      return new byte[] {a[12], a[13], a[14], a[15]};
    }
    return a;
  }

  public boolean contains(String address) {
    return contains(address(address));
  }

  /** Whether the address bytes (as from {@link #address}) fall in this network; null is in none. */
  public boolean contains(byte[] a) {
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

  @Override
  public String toString() {
    return text;
  }
}
