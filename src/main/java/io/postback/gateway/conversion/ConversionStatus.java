package io.postback.gateway.conversion;

import java.util.Locale;

/** What attribution (or, for a refund, the reversal) decided for a conversion. */
public enum ConversionStatus {
  ATTRIBUTED,
  UNATTRIBUTED,
  /** Credited to an affiliate who earns nothing while suspended. */
  AFFILIATE_SUSPENDED,
  /** Credited to an affiliate not (yet) approved, or unknown to the catalogue. */
  AFFILIATE_PENDING,
  /** A refund that reversed its original's commission. */
  REFUNDED,
  /** A refund after the surface's refund window: nothing reversed. */
  REFUND_OUTSIDE_WINDOW,
  /** A refund whose original has not arrived yet; settled when it does. */
  REFUND_PENDING_ORIGINAL,
  /** A refund in another currency than its original: nothing reversed (money is never converted). */
  REFUND_CURRENCY_MISMATCH;

  private final String wire = name().toLowerCase(Locale.ROOT);

  /** The value in the API, the database, metrics and events. */
  public String wire() {
    return wire;
  }

  /** The status a stored wire value names; a value the gateway never writes is a bug, so it throws. */
  public static ConversionStatus of(String wire) {
    for (ConversionStatus s : values()) {
      if (s.wire.equals(wire)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown conversion status: " + wire);
  }

  @Override
  public String toString() {
    return wire;
  }
}
