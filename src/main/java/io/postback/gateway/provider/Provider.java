package io.postback.gateway.provider;

import java.util.Locale;

/** The payment providers whose own signed webhooks a surface can receive (docs/payment-providers.md). */
public enum Provider {
  STRIPE, RAZORPAY;

  /** The name used in paths, the database, the postback log and metrics. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The provider a path segment names, or null. */
  public static Provider of(String id) {
    for (Provider p : values()) {
      if (p.id().equals(id)) {
        return p;
      }
    }
    return null;
  }
}
