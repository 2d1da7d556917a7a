package io.postback.gateway.conversion;

import java.util.Locale;

/** Whether the merchant has confirmed a conversion; only pending → approved/rejected and approved → rejected happen. */
public enum Approval {
  PENDING, APPROVED, REJECTED;

  private final String wire = name().toLowerCase(Locale.ROOT);

  /** The value in the API, the database and events. */
  public String wire() {
    return wire;
  }

  /** The approval a wire value names, or null for null or a value that names none. */
  public static Approval parse(String wire) {
    for (Approval a : values()) {
      if (a.wire.equals(wire)) {
        return a;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return wire;
  }
}
