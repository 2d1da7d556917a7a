package io.postback.gateway.store;

import io.postback.gateway.events.Event.CommissionReversed;
import io.postback.gateway.events.EventOutbox;
import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/**
 * One clawback in the commission ledger: a negative {@code reversal} entry and its
 * {@code commission.reversed} event, written in the caller's transaction. Refunds and rejections both
 * reverse through here.
 */
final class LedgerReversal {
  private static final String INSERT = "INSERT INTO commissions (id, kind, conversion_id, refund_conversion_id, "
      + "surface_id, affiliate_id, amount_minor, currency) VALUES ($1, 'reversal', $2, $3, $4, $5, $6, $7)";

  private LedgerReversal() {
  }

  /**
   * Reverses {@code amountMinor} (positive) of a conversion's commission.
   *
   * @param refundId the refund conversion that caused it, or null
   * @param reason   why, when not a refund (e.g. "rejected"), or null
   */
  static Future<Void> write(SqlConnection tx, String conversionId, String refundId, String reason, String surfaceId,
                            String affiliateId, long amountMinor, String currency) {
    String entryId = Ids.timeOrdered("com");
    return tx.preparedQuery(INSERT)
        .execute(Tuple.of(entryId, conversionId, refundId, surfaceId, affiliateId, -amountMinor, currency))
        .compose(v -> EventOutbox.append(tx, new CommissionReversed(entryId, conversionId, refundId, reason, surfaceId,
            affiliateId, -amountMinor, currency)))
        .mapEmpty();
  }
}
