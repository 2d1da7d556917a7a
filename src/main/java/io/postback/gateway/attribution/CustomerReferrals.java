package io.postback.gateway.attribution;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;

/**
 * Who referred a customer: the affiliate of the customer's first attributed conversion on a surface, and
 * when it occurred. Read only for conversions that name a customer and found no click or promo code, so
 * conversions without a customer cost nothing more (index conversions_customer_first_idx).
 */
public final class CustomerReferrals {
  private static final String FIRST = "SELECT affiliate_id, occurred_at FROM conversions "
      + "WHERE surface_id = $1 AND customer_id = $2 AND affiliate_id IS NOT NULL AND refund_of IS NULL "
      + "ORDER BY occurred_at LIMIT 1";

  /** The referring affiliate and when the customer's first attributed conversion occurred. */
  public record Referral(String affiliateId, Instant firstAt) {
  }

  private final Pool pool;

  public CustomerReferrals(Pool pool) {
    this.pool = pool;
  }

  /** The customer's referral, or null when no conversion of theirs was attributed. */
  public Future<Referral> first(String surfaceId, String customerId) {
    return pool.preparedQuery(FIRST).execute(Tuple.of(surfaceId, customerId)).map(rows -> rows.size() == 0 ? null
        : new Referral(rows.iterator().next().getString(0), rows.iterator().next().getOffsetDateTime(1).toInstant()));
  }
}
