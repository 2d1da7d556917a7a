package io.postback.gateway.store;

import io.postback.gateway.attribution.Commissions;
import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.ConversionOutcome;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.conversion.ConversionStatus;
import io.postback.gateway.conversion.InvalidConversion;
import io.postback.gateway.events.Event.ConversionCreated;
import io.postback.gateway.events.Event.ConversionRefunded;
import io.postback.gateway.events.EventOutbox;
import io.postback.gateway.store.ConversionWriter.WriteResult;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Refunds and clawback (SPEC §3.5), off the batched hot path: refunds are rare and each needs a
 * consistent read of what was already reversed, so each runs in its own transaction that first takes a
 * transaction-level advisory lock on (surface, original externalId) and then locks the original row
 * ({@code SELECT ... FOR UPDATE}). Refunds of one original are thereby applied one at a time, and the
 * reversals of an original never add up to more than its commission.
 *
 * <p>A refund is in its original's currency: one that names another is refused (400 {@code currency}),
 * one that names none is stored with the original's. A refund whose original is unknown is stored as
 * {@code refund_pending_original}; if, when the original arrives, it names another currency than the
 * original, it becomes {@code refund_currency_mismatch} and reverses nothing (money is never pro-rated
 * across currencies). When the original arrives, the batch insert reports pending refunds and {@link #applyPending} applies them right after
 * the original's commit (the answer to the original waits for it). If that step fails, or the two
 * raced (each committed without seeing the other), {@link #sweep} finds and applies them.
 */
public final class RefundWriter {
  private static final Logger LOG = LoggerFactory.getLogger(RefundWriter.class);

  /** Taken with {@link #lockKey}; approval transitions (ApprovalWriter) take the same lock. */
  static final String LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7331))";
  private static final String ORIGINAL = "SELECT id, event_type, gross_minor, currency, occurred_at, affiliate_id, "
      + "commission_minor, commission_currency, approval FROM conversions WHERE surface_id = $1 AND external_id = $2 FOR UPDATE";
  // What earlier refunds (and rejections) of the original already did: the reversed total, the refunded
  // gross, and the net ledger sum of the original (commission minus every reversal).
  private static final String PRIOR = "SELECT "
      + "(SELECT COALESCE(-SUM(amount_minor), 0) FROM commissions WHERE conversion_id = $1 AND kind = 'reversal') AS reversed, "
      + "(SELECT COALESCE(SUM(amount_minor), 0) FROM commissions WHERE conversion_id = $1) AS net, "
      + "(SELECT COALESCE(SUM(gross_minor), 0) FROM conversions WHERE surface_id = $2 AND refund_of = $3 "
      + "AND status = 'refunded' AND id <> $4) AS refunded_gross";
  private static final String INSERT_REFUND = "INSERT INTO conversions (id, surface_id, external_id, event_type, "
      + "gross_minor, currency, occurred_at, click_id, promo_code, refund_of, metadata, status, affiliate_id, "
      + "commission_minor, commission_currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15) "
      + "ON CONFLICT (surface_id, external_id) DO NOTHING RETURNING id";
  private static final String EXISTING = "SELECT id, status, affiliate_id, commission_minor, commission_currency, approval "
      + "FROM conversions WHERE surface_id = $1 AND external_id = $2";
  private static final String PENDING_OF = "SELECT id, external_id, gross_minor, currency, occurred_at FROM conversions "
      + "WHERE surface_id = $1 AND refund_of = $2 AND status = 'refund_pending_original' ORDER BY received_at, id";
  private static final String SETTLE_PENDING = "UPDATE conversions SET status = $2, affiliate_id = $3, "
      + "commission_minor = $4, commission_currency = $5, currency = COALESCE(currency, $6) WHERE id = $1";
  private static final String STRANDED = "SELECT DISTINCT r.surface_id, r.refund_of FROM conversions r "
      + "JOIN conversions o ON o.surface_id = r.surface_id AND o.external_id = r.refund_of "
      + "WHERE r.status = 'refund_pending_original' AND r.received_at < now() - interval '2 seconds' LIMIT 100";

  private record Original(String id, String externalId, String eventType, Long grossMinor, String currency,
                          Instant occurredAt, String affiliateId, long commissionMinor, String commissionCurrency,
                          String approval) {
    /** True when a refund in {@code refundCurrency} (null: the original's) is in this original's currency. */
    boolean sameCurrency(String refundCurrency) {
      return refundCurrency == null || currency == null || currency.equals(refundCurrency);
    }
  }

  /** What a refund does: its status and the amount it reverses now (positive, or 0). */
  private record Decision(ConversionStatus status, String affiliateId, long reversalMinor, String currency) {
    ConversionOutcome outcome(String refundId) {
      return new ConversionOutcome(status, refundId, affiliateId, -reversalMinor, reversalMinor == 0 ? null : currency,
          Approval.APPROVED);
    }
  }

  private final Pool pool;

  public RefundWriter(Pool pool) {
    this.pool = pool;
  }

  /** Records a refund and reverses commission as it earns; a duplicate answers the first outcome. */
  public Future<WriteResult> refund(Surface surface, String refundId, ConversionRequest r) {
    return pool.withTransaction(tx -> lock(tx, surface.id(), r.refundOf())
        .compose(original -> {
          if (original != null && "refund".equals(original.eventType())) {
            throw new InvalidConversion("refundOf", "refundOf names a refund; name the original conversion");
          }
          if (original != null && !original.sameCurrency(r.currency())) {
            throw new InvalidConversion("currency", "A refund is in its original's currency (" + original.currency()
                + "); this one names " + r.currency());
          }
          String currency = r.currency() != null || original == null ? r.currency() : original.currency();
          Future<Decision> decision = original == null
              ? Future.succeededFuture(new Decision(ConversionStatus.REFUND_PENDING_ORIGINAL, null, 0, null))
              : decide(tx, surface, original, refundId, r.grossMinor(), currency, r.occurredAt());
          return decision.compose(d -> tx.preparedQuery(INSERT_REFUND).execute(Tuple.from(Arrays.asList(
                  refundId, surface.id(), r.externalId(), r.eventType(), r.grossMinor(), currency,
                  OffsetDateTime.ofInstant(r.occurredAt(), ZoneOffset.UTC), r.clickId(), r.promoCode(), r.refundOf(),
                  r.metadata(), d.status().wire(), d.affiliateId(), -d.reversalMinor(),
                  d.reversalMinor() == 0 ? null : d.currency())))
              .compose(rows -> {
                if (rows.size() == 0) {
                  return existing(tx, surface.id(), r.externalId()).map(o -> new WriteResult(false, o));
                }
                // Like every conversion row, a refund has its conversion.created event.
                return EventOutbox.append(tx, new ConversionCreated(refundId, surface.id(), r.externalId(),
                        r.eventType(), r.grossMinor(), currency, r.occurredAt().toString(), r.clickId(), r.promoCode(),
                        r.refundOf(), d.status().wire(), d.affiliateId(), -d.reversalMinor(),
                        d.reversalMinor() == 0 ? null : d.currency(), Approval.APPROVED.wire(),
                        r.metadata() == null ? null : new JsonObject(r.metadata())))
                    .compose(e -> record(tx, surface, original, refundId, r.externalId(), r.grossMinor(), d))
                    .map(v -> new WriteResult(true, d.outcome(refundId)));
              }));
        }));
  }

  /** Applies the refunds that wait for the original {@code externalId}; the future holds how many. */
  public Future<Integer> applyPending(Surface surface, String externalId) {
    return pool.withTransaction(tx -> lock(tx, surface.id(), externalId).compose(original -> {
      if (original == null) {
        return Future.succeededFuture(0);
      }
      return tx.preparedQuery(PENDING_OF).execute(Tuple.of(surface.id(), externalId)).compose(rows -> {
        Future<Integer> chain = Future.succeededFuture(0);
        for (Row row : rows) {
          String refundId = row.getString("id");
          String refundExternalId = row.getString("external_id");
          Long gross = row.getLong("gross_minor");
          String currency = row.getString("currency");
          Instant occurred = row.getOffsetDateTime("occurred_at").toInstant();
          // One after the other: each decision must see the reversals of the ones before it.
          chain = chain.compose(n -> decide(tx, surface, original, refundId, gross, currency, occurred)
              .compose(d -> tx.preparedQuery(SETTLE_PENDING)
                  .execute(Tuple.of(refundId, d.status().wire(), d.affiliateId(), -d.reversalMinor(),
                      d.reversalMinor() == 0 ? null : d.currency(), original.currency()))
                  .compose(u -> record(tx, surface, original, refundId, refundExternalId, gross, d)))
              .map(n + 1));
        }
        return chain;
      });
    }));
  }

  /** Applies pending refunds whose original exists (missed by a race or a failed follow-up step). */
  public Future<Integer> sweep(SurfaceRegistry surfaces) {
    return pool.preparedQuery(STRANDED).execute().compose(rows -> {
      List<Future<Integer>> applied = new ArrayList<>();
      for (Row row : rows) {
        Surface surface = surfaces.cached(row.getString("surface_id"));
        if (surface != null) {
          applied.add(applyPending(surface, row.getString("refund_of")));
        }
      }
      return Future.join(applied).map(all -> {
        int n = 0;
        for (Future<Integer> f : applied) {
          n += f.succeeded() ? f.result() : 0;
        }
        if (n > 0) {
          LOG.info("applied {} refund(s) whose original arrived concurrently", n);
        }
        return n;
      });
    });
  }

  private Future<Original> lock(SqlConnection tx, String surfaceId, String originalExternalId) {
    return tx.preparedQuery(LOCK_KEY).execute(Tuple.of(lockKey(surfaceId, originalExternalId)))
        .compose(v -> tx.preparedQuery(ORIGINAL).execute(Tuple.of(surfaceId, originalExternalId)))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row o = rows.iterator().next();
          return new Original(o.getString("id"), originalExternalId, o.getString("event_type"), o.getLong("gross_minor"),
              o.getString("currency"), o.getOffsetDateTime("occurred_at").toInstant(), o.getString("affiliate_id"),
              o.getLong("commission_minor"), o.getString("commission_currency"), o.getString("approval"));
        });
  }

  /** The advisory lock key of one (surface, externalId): refunds of it and its approval transitions serialize. */
  static String lockKey(String surfaceId, String externalId) {
    return surfaceId + '\n' + externalId;
  }

  private Future<Decision> decide(SqlConnection tx, Surface surface, Original original, String refundId,
                                  Long refundGross, String refundCurrency, Instant refundOccurredAt) {
    if (!original.sameCurrency(refundCurrency)) {
      // Only a refund that waited for its original gets here: it was answered before the original was known.
      LOG.warn("refund {} names {} but its original {} is in {}: nothing reversed", refundId, refundCurrency,
          original.id(), original.currency());
      return Future.succeededFuture(new Decision(ConversionStatus.REFUND_CURRENCY_MISMATCH, original.affiliateId(), 0, null));
    }
    if (refundOccurredAt.isAfter(original.occurredAt().plus(surface.refundWindow()))) {
      return Future.succeededFuture(new Decision(ConversionStatus.REFUND_OUTSIDE_WINDOW, original.affiliateId(), 0, null));
    }
    // A rejected original earns nothing: its net was reversed when it was rejected (or it never had any).
    if (original.affiliateId() == null || original.commissionMinor() <= 0
        || Approval.REJECTED.wire().equals(original.approval())) {
      return Future.succeededFuture(new Decision(ConversionStatus.REFUNDED, original.affiliateId(), 0, null));
    }
    return tx.preparedQuery(PRIOR).execute(Tuple.of(original.id(), surface.id(), original.externalId(), refundId))
        .map(rows -> {
          Row p = rows.iterator().next();
          long reversed = p.getLong("reversed");
          // Each gross is bounded, their sum is not: anything at or above the original's gross is a full refund.
          Long refundedSoFar = refundGross == null ? null : p.getBigDecimal("refunded_gross")
              .add(BigDecimal.valueOf(refundGross)).min(BigDecimal.valueOf(Long.MAX_VALUE)).longValueExact();
          long target = Commissions.reversalTarget(original.commissionMinor(), original.grossMinor(), refundedSoFar);
          long reversal = Math.max(0, Math.min(target, original.commissionMinor()) - reversed);
          // Never below zero: a refund reverses at most what the original still stands at in the ledger.
          reversal = Math.min(reversal, Math.max(0, p.getLong("net")));
          return new Decision(ConversionStatus.REFUNDED, original.affiliateId(), reversal, original.commissionCurrency());
        });
  }

  /** The reversal ledger entry and the events of an applied refund. */
  private Future<Void> record(SqlConnection tx, Surface surface, Original original, String refundId,
                              String refundExternalId, Long refundGross, Decision d) {
    if (d.status() == ConversionStatus.REFUND_PENDING_ORIGINAL) {
      return Future.succeededFuture();
    }
    Future<String> event = EventOutbox.append(tx, new ConversionRefunded(original.id(), refundId, refundExternalId,
        surface.id(), d.status().wire(), refundGross, d.affiliateId(), d.reversalMinor()));
    if (d.reversalMinor() == 0) {
      return event.mapEmpty();
    }
    return event.compose(e -> LedgerReversal.write(tx, original.id(), refundId, null, surface.id(), d.affiliateId(),
        d.reversalMinor(), d.currency()));
  }

  private Future<ConversionOutcome> existing(SqlConnection tx, String surfaceId, String externalId) {
    return tx.preparedQuery(EXISTING).execute(Tuple.of(surfaceId, externalId)).map(rows -> {
      Row r = rows.iterator().next();
      return new ConversionOutcome(ConversionStatus.of(r.getString("status")), r.getString("id"),
          r.getString("affiliate_id"), r.getLong("commission_minor"), r.getString("commission_currency"),
          Approval.parse(r.getString("approval")));
    });
  }
}
