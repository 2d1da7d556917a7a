package io.postback.gateway.click;

import io.postback.gateway.config.GatewayConfig.EdgeSettings;
import io.postback.gateway.limit.KeyedBuckets;
import io.postback.gateway.net.Cidr;

/**
 * The limits of {@code GET /c/{code}}, which anyone may call: a token bucket per client address and one
 * per tracking link, per gateway instance (shared by its verticles). The address bucket is checked
 * first, before the link is even looked up, so spraying random codes is limited too; the link bucket
 * caps what a flood from many addresses can add to one link. An IPv6 client is limited per /64: one
 * subscriber holds a whole /64, and limiting single addresses in it would limit nothing.
 *
 * <p>Memory is bounded: at most {@link #MAX_ADDRESSES} address buckets (roughly 200 bytes each), and a
 * bucket left alone until it is full again is dropped.
 */
public final class ClickLimits {
  static final long MAX_ADDRESSES = 100_000;
  private static final long MAX_LINKS = 1_000_000;

  private final KeyedBuckets perAddress;
  private final KeyedBuckets perLink;

  public ClickLimits(EdgeSettings edge) {
    this.perAddress = new KeyedBuckets(edge.clickIpRatePerSecond(), edge.clickIpBurst(), MAX_ADDRESSES);
    this.perLink = new KeyedBuckets(edge.clickLinkRatePerSecond(), edge.clickLinkBurst(), MAX_LINKS);
  }

  /** Takes a token of the client's bucket: 0, or the nanoseconds until it may click again. */
  long forAddress(String clientAddress) {
    return perAddress.unlimited() || clientAddress == null ? 0 : perAddress.take(addressKey(clientAddress));
  }

  /** Takes a token of the link's bucket: 0, or the nanoseconds until it takes clicks again. */
  long forLink(String code) {
    return perLink.take(code);
  }

  /** IPv4: the address; IPv6: its /64. */
  static String addressKey(String clientAddress) {
    byte[] a = Cidr.address(clientAddress);
    if (a == null || a.length == 4) {
      return clientAddress;
    }
    StringBuilder key = new StringBuilder(20);
    for (int i = 0; i < 8; i += 2) {
      key.append(Integer.toHexString(((a[i] & 0xff) << 8) | (a[i + 1] & 0xff))).append(':');
    }
    return key.append(":/64").toString();
  }
}
