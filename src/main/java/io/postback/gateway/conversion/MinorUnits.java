package io.postback.gateway.conversion;

import java.math.BigDecimal;
import java.util.Currency;

/**
 * Amounts in minor units and their currency's ISO 4217 exponent: 4999 USD is 49.99, 500 JPY is 500,
 * 1250 KWD is 1.250. The one place the exponent is decided: inbound GET postbacks read major units with
 * it, affiliate postbacks write them with it.
 */
public final class MinorUnits {
  /** Used for an absent or unknown currency. */
  public static final int DEFAULT_EXPONENT = 2;

  private MinorUnits() {
  }

  /** The currency's ISO 4217 minor-unit exponent (0 for codes without one, such as XAU); 2 when null or unknown. */
  public static int exponent(String currency) {
    if (currency == null) {
      return DEFAULT_EXPONENT;
    }
    try {
      int digits = Currency.getInstance(currency).getDefaultFractionDigits();
      return Math.max(0, digits);
    } catch (IllegalArgumentException e) {
      return DEFAULT_EXPONENT;
    }
  }

  /** Minor units as a decimal in major units with exactly the currency's decimals: (-125, "KWD") → "-0.125". */
  public static String major(long minor, String currency) {
    return BigDecimal.valueOf(minor).movePointLeft(exponent(currency)).toPlainString();
  }
}
