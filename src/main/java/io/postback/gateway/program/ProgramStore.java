package io.postback.gateway.program;

import io.postback.gateway.events.Event.AffiliateCreated;
import io.postback.gateway.events.Event.AffiliateStatusChanged;
import io.postback.gateway.events.EventOutbox;
import io.postback.gateway.program.Affiliate;
import io.postback.gateway.program.TrackingLink;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Postgres access for the affiliate program: affiliates, tracking links, commission rules. Status
 * changes of an affiliate write their event in the same transaction.
 */
public final class ProgramStore {
  private static final String AFFILIATE_COLUMNS = "id, name, status, created_at, updated_at";
  private static final String INSERT_AFFILIATE = "INSERT INTO affiliates (id, name, status) VALUES ($1, $2, $3) "
      + "ON CONFLICT (id) DO NOTHING RETURNING " + AFFILIATE_COLUMNS;
  private static final String FIND_AFFILIATE = "SELECT " + AFFILIATE_COLUMNS + " FROM affiliates WHERE id = $1";
  private static final String LOCK_AFFILIATE = FIND_AFFILIATE + " FOR UPDATE";
  private static final String UPDATE_AFFILIATE = "UPDATE affiliates SET name = COALESCE($2, name), "
      + "status = COALESCE($3, status), updated_at = now() WHERE id = $1 RETURNING " + AFFILIATE_COLUMNS;
  private static final String AFFILIATES_SINCE = "SELECT " + AFFILIATE_COLUMNS + " FROM affiliates WHERE updated_at > $1";

  private static final String AFFILIATES_PAGE = "SELECT " + AFFILIATE_COLUMNS + " FROM affiliates "
      + "WHERE ($1::text IS NULL OR status = $1) "
      + "AND ($2::text IS NULL OR strpos(lower(id), lower($2)) > 0 OR strpos(lower(name), lower($2)) > 0) "
      + "AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4";
  private static final String LINK_COLUMNS = "code, surface_id, affiliate_id, destination_url, promo_code, created_at, updated_at";
  private static final String INSERT_LINK = "INSERT INTO links (code, surface_id, affiliate_id, destination_url, promo_code) "
      + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING " + LINK_COLUMNS;
  private static final String FIND_LINK = "SELECT " + LINK_COLUMNS + " FROM links WHERE code = $1";
  private static final String LINKS_PAGE = "SELECT " + LINK_COLUMNS + " FROM links "
      + "WHERE ($1::text IS NULL OR surface_id = $1) AND ($2::text IS NULL OR affiliate_id = $2) "
      + "AND ($3::text IS NULL OR code > $3) ORDER BY code LIMIT $4";
  private static final String LINKS_SINCE = "SELECT " + LINK_COLUMNS + " FROM links WHERE updated_at > $1";

  private static final String RULE_COLUMNS = "id, surface_id, event_type, affiliate_id, flat_minor, percent_bps, currency, updated_at";
  // One rule per slot: posting a rule for an existing slot replaces it.
  private static final String UPSERT_RULE = "INSERT INTO commission_rules "
      + "(id, surface_id, event_type, affiliate_id, flat_minor, percent_bps, currency) VALUES ($1, $2, $3, $4, $5, $6, $7) "
      + "ON CONFLICT (surface_id, event_type, COALESCE(affiliate_id, '')) DO UPDATE SET flat_minor = EXCLUDED.flat_minor, "
      + "percent_bps = EXCLUDED.percent_bps, currency = EXCLUDED.currency, updated_at = now() RETURNING " + RULE_COLUMNS;
  private static final String RULES_OF_SURFACE = "SELECT " + RULE_COLUMNS + " FROM commission_rules WHERE surface_id = $1 "
      + "ORDER BY event_type, affiliate_id NULLS FIRST";
  private static final String RULES_SINCE = "SELECT " + RULE_COLUMNS + " FROM commission_rules WHERE updated_at > $1";

  private final Pool pool;

  public ProgramStore(Pool pool) {
    this.pool = pool;
  }

  /** Inserts an affiliate and its {@code affiliate.created} event; null when the id is taken. */
  public Future<Affiliate> insertAffiliate(String id, String name, String status) {
    return pool.withTransaction(tx -> tx.preparedQuery(INSERT_AFFILIATE).execute(Tuple.of(id, name, status))
        .compose(rows -> {
          Affiliate created = first(rows, ProgramStore::toAffiliate);
          if (created == null) {
            return Future.succeededFuture(null);
          }
          return EventOutbox.append(tx, new AffiliateCreated(created.id(), created.name(), created.status())).map(created);
        }));
  }

  public Future<Affiliate> findAffiliate(String id) {
    return pool.preparedQuery(FIND_AFFILIATE).execute(Tuple.of(id)).map(rows -> first(rows, ProgramStore::toAffiliate));
  }

  /**
   * Changes name and/or status; a status change to active or suspended writes {@code affiliate.approved}
   * or {@code affiliate.suspended} in the same transaction. Null when there is no such affiliate.
   */
  public Future<Affiliate> updateAffiliate(String id, String name, String status) {
    return pool.withTransaction(tx -> tx.preparedQuery(LOCK_AFFILIATE).execute(Tuple.of(id)).compose(before -> {
      Affiliate old = first(before, ProgramStore::toAffiliate);
      if (old == null) {
        return Future.succeededFuture(null);
      }
      return tx.preparedQuery(UPDATE_AFFILIATE).execute(Tuple.of(id, name, status)).compose(after -> {
        Affiliate updated = first(after, ProgramStore::toAffiliate);
        String event = old.status().equals(updated.status()) ? null : switch (updated.status()) {
          case Affiliate.ACTIVE -> AffiliateStatusChanged.APPROVED;
          case Affiliate.SUSPENDED -> AffiliateStatusChanged.SUSPENDED;
          default -> null;
        };
        return event == null ? Future.succeededFuture(updated)
            : EventOutbox.append(tx, new AffiliateStatusChanged(event, updated.id(), updated.name(), updated.status(),
                old.status())).map(updated);
      });
    }));
  }

  /** Affiliates ordered by id after {@code cursor}; status and search (id or name contains) are optional. */
  public Future<List<Affiliate>> affiliatesPage(String status, String search, String cursor, int limit) {
    return all(AFFILIATES_PAGE, Tuple.of(status, search, cursor, limit), ProgramStore::toAffiliate);
  }

  /** Links ordered by code after {@code cursor}, optionally of one surface and/or one affiliate. */
  public Future<List<TrackingLink>> linksPage(String surfaceId, String affiliateId, String cursor, int limit) {
    return all(LINKS_PAGE, Tuple.of(surfaceId, affiliateId, cursor, limit), ProgramStore::toLink);
  }

  public Future<List<Affiliate>> affiliatesChangedSince(Instant since) {
    return all(AFFILIATES_SINCE, at(since), ProgramStore::toAffiliate);
  }

  /** Inserts a link; null when the code, or the promo code on that surface, is taken. */
  public Future<TrackingLink> insertLink(String code, String surfaceId, String affiliateId, String destination,
                                         String promoCode) {
    return pool.preparedQuery(INSERT_LINK).execute(Tuple.of(code, surfaceId, affiliateId, destination, promoCode))
        .map(rows -> first(rows, ProgramStore::toLink));
  }

  public Future<TrackingLink> findLink(String code) {
    return pool.preparedQuery(FIND_LINK).execute(Tuple.of(code)).map(rows -> first(rows, ProgramStore::toLink));
  }

  public Future<List<TrackingLink>> linksChangedSince(Instant since) {
    return all(LINKS_SINCE, at(since), ProgramStore::toLink);
  }

  public Future<CommissionRule> upsertRule(CommissionRule rule) {
    return pool.preparedQuery(UPSERT_RULE).execute(Tuple.of(rule.id(), rule.surfaceId(), rule.eventType(),
            rule.affiliateId(), rule.flatMinor(), rule.percentBps(), rule.currency()))
        .map(rows -> first(rows, ProgramStore::toRule));
  }

  public Future<List<CommissionRule>> rulesOf(String surfaceId) {
    return all(RULES_OF_SURFACE, Tuple.of(surfaceId), ProgramStore::toRule);
  }

  public Future<List<CommissionRule>> rulesChangedSince(Instant since) {
    return all(RULES_SINCE, at(since), ProgramStore::toRule);
  }

  private static Tuple at(Instant since) {
    return Tuple.of(OffsetDateTime.ofInstant(since, ZoneOffset.UTC));
  }

  private <T> Future<List<T>> all(String sql, Tuple args, Function<Row, T> mapper) {
    return pool.preparedQuery(sql).execute(args).map(rows -> {
      List<T> out = new ArrayList<>(rows.size());
      rows.forEach(r -> out.add(mapper.apply(r)));
      return out;
    });
  }

  private static <T> T first(RowSet<Row> rows, Function<Row, T> mapper) {
    return rows.size() == 0 ? null : mapper.apply(rows.iterator().next());
  }

  private static Affiliate toAffiliate(Row r) {
    return new Affiliate(r.getString("id"), r.getString("name"), r.getString("status"),
        r.getOffsetDateTime("created_at").toInstant(), r.getOffsetDateTime("updated_at").toInstant());
  }

  private static TrackingLink toLink(Row r) {
    return new TrackingLink(r.getString("code"), r.getString("surface_id"), r.getString("affiliate_id"),
        r.getString("destination_url"), r.getString("promo_code"), r.getOffsetDateTime("created_at").toInstant(),
        r.getOffsetDateTime("updated_at").toInstant());
  }

  private static CommissionRule toRule(Row r) {
    return new CommissionRule(r.getString("id"), r.getString("surface_id"), r.getString("event_type"),
        r.getString("affiliate_id"), r.getLong("flat_minor"), r.getInteger("percent_bps"), r.getString("currency"),
        r.getOffsetDateTime("updated_at").toInstant());
  }
}
