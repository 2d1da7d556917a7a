package io.postback.gateway.store;

import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.ConversionOutcome;
import io.postback.gateway.conversion.ConversionStatus;
import io.postback.gateway.events.Event.ConversionApproved;
import io.postback.gateway.events.Event.ConversionRejected;
import io.postback.gateway.events.EventOutbox;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/**
 * Approval transitions of a stored conversion (SPEC §3.3 {@code status}).
 *
 * <p>Semantics:
 * <ul>
 *   <li>A pending or approved conversion gets its commission ledger entry when it is created (the
 *       ledger holds what is earned and not rejected; payouts are manual). A conversion that arrives
 *       rejected is attributed (its affiliate is named) but earns nothing: commission 0, no ledger entry,
 *       and a {@code conversion.rejected} event in its own insert statement (ConversionWriter).</li>
 *   <li>A repeat of a stored (surface, externalId) whose explicit status differs from the stored one is
 *       a transition. pending → approved writes {@code conversion.approved} and leaves the ledger as it
 *       is. pending → rejected and approved → rejected write {@code conversion.rejected}, set the stored
 *       commission to 0 and reverse the conversion's net ledger sum (its commission minus every reversal
 *       so far, refunds included) as one {@code reversal} entry with a {@code commission.reversed} event,
 *       when that net is above 0.</li>
 *   <li>rejected → anything and approved → pending are ignored: answered as a duplicate with the stored
 *       state. A repeat without a status never changes anything. Refund rows have no transitions.</li>
 *   <li>Each transition is one transaction holding the advisory lock refunds take for the same
 *       (surface, externalId) and the conversion row ({@code FOR UPDATE}), so refunds and transitions
 *       of one conversion are applied one at a time, and a refund never reverses more than the net
 *       left (RefundWriter).</li>
 * </ul>
 */
public final class ApprovalWriter {
  private static final String CONVERSION = "SELECT id, external_id, status, affiliate_id, commission_minor, "
      + "commission_currency, approval, refund_of FROM conversions WHERE surface_id = $1 AND external_id = $2 FOR UPDATE";
  private static final String SET_APPROVAL = "UPDATE conversions SET approval = $2 WHERE id = $1";
  private static final String SET_REJECTED = "UPDATE conversions SET approval = 'rejected', commission_minor = 0, "
      + "commission_currency = NULL WHERE id = $1";
  // The conversion's net standing per affiliate and currency: its commission entry minus all reversals.
  private static final String NET = "SELECT affiliate_id, currency, SUM(amount_minor) AS net FROM commissions "
      + "WHERE conversion_id = $1 GROUP BY affiliate_id, currency ORDER BY affiliate_id, currency";

  /** The state after the request: {@code transitioned} false when nothing changed (a plain duplicate). */
  public record Result(boolean transitioned, ConversionOutcome outcome) {
  }

  private final Pool pool;

  public ApprovalWriter(Pool pool) {
    this.pool = pool;
  }

  /** Whether stored → requested is a transition that changes anything. */
  public static boolean isTransition(Approval stored, Approval requested) {
    if (requested == null || requested == stored) {
      return false;
    }
    return switch (stored) {
      case PENDING -> true;                                                    // → approved or rejected
      case APPROVED -> requested == Approval.REJECTED;
      case REJECTED -> false;                                                  // rejected is final
    };
  }

  /**
   * Applies the requested approval to the stored conversion, or answers its stored state when that is
   * no transition. The future holds null when no such conversion is stored.
   */
  public Future<Result> apply(String surfaceId, String externalId, Approval requested) {
    return pool.withTransaction(tx -> tx.preparedQuery(RefundWriter.LOCK_KEY)
        .execute(Tuple.of(RefundWriter.lockKey(surfaceId, externalId)))
        .compose(v -> tx.preparedQuery(CONVERSION).execute(Tuple.of(surfaceId, externalId)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(null);
          }
          Row c = rows.iterator().next();
          ConversionOutcome stored = new ConversionOutcome(ConversionStatus.of(c.getString("status")), c.getString("id"),
              c.getString("affiliate_id"), c.getLong("commission_minor"), c.getString("commission_currency"),
              Approval.parse(c.getString("approval")));
          if (c.getString("refund_of") != null || !isTransition(stored.approval(), requested)) {
            return Future.succeededFuture(new Result(false, stored));
          }
          return requested == Approval.REJECTED
              ? reject(tx, surfaceId, externalId, stored)
              : approve(tx, surfaceId, externalId, stored);
        }));
  }

  private Future<Result> approve(SqlConnection tx, String surfaceId, String externalId, ConversionOutcome stored) {
    ConversionOutcome now = new ConversionOutcome(stored.status(), stored.conversionId(), stored.affiliateId(),
        stored.commissionMinor(), stored.currency(), Approval.APPROVED);
    return tx.preparedQuery(SET_APPROVAL).execute(Tuple.of(stored.conversionId(), Approval.APPROVED.wire()))
        .compose(u -> EventOutbox.append(tx, new ConversionApproved(stored.conversionId(), surfaceId, externalId,
            stored.affiliateId(), stored.approval().wire(), stored.commissionMinor(), stored.currency())))
        .map(e -> new Result(true, now));
  }

  private Future<Result> reject(SqlConnection tx, String surfaceId, String externalId, ConversionOutcome stored) {
    ConversionOutcome now = new ConversionOutcome(stored.status(), stored.conversionId(), stored.affiliateId(),
        0, null, Approval.REJECTED);
    return tx.preparedQuery(SET_REJECTED).execute(Tuple.of(stored.conversionId()))
        .compose(u -> tx.preparedQuery(NET).execute(Tuple.of(stored.conversionId())))
        .compose(rows -> {
          List<Row> positive = new ArrayList<>();
          for (Row r : rows) {
            if (r.getLong("net") > 0) {
              positive.add(r);
            }
          }
          long reversedTotal = positive.stream().mapToLong(r -> r.getLong("net")).sum();
          Future<Void> chain = Future.succeededFuture();
          for (Row r : positive) {
            chain = chain.compose(v -> LedgerReversal.write(tx, stored.conversionId(), null, "rejected", surfaceId,
                r.getString("affiliate_id"), r.getLong("net"), r.getString("currency")));
          }
          return chain.compose(v -> EventOutbox.append(tx, new ConversionRejected(stored.conversionId(), surfaceId,
              externalId, stored.affiliateId(), stored.approval().wire(), reversedTotal)));
        })
        .map(e -> new Result(true, now));
  }
}
