package io.postback.gateway.delivery;

import java.util.Locale;

/**
 * What a delivery destination (a row of webhook_endpoints) is: a webhook endpoint, sent the signed JSON
 * envelope, or an affiliate postback template, sent its rendered URL (docs/affiliate-postbacks.md). Both
 * go through the same queue; only the request differs.
 */
public enum DestinationKind {
  WEBHOOK, AFFILIATE_POSTBACK;

  private final String wire = name().toLowerCase(Locale.ROOT);

  /** As stored (webhook_endpoints.kind) and as the metrics label {@code kind}. */
  public String wire() {
    return wire;
  }

  static DestinationKind of(String wire) {
    return "affiliate_postback".equals(wire) ? AFFILIATE_POSTBACK : WEBHOOK;
  }
}
