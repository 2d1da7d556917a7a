package io.postback.gateway.program;

import io.postback.gateway.limit.UnknownIdLookups;
import io.postback.gateway.program.Affiliate;
import io.postback.gateway.program.TrackingLink;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Affiliates, tracking links, promo codes and commission rules in memory, shared by every verticle of
 * the instance, so neither the click path nor attribution reads the database for them. Like
 * {@link io.postback.gateway.surface.SurfaceRegistry}: changes made through this instance apply at
 * once, other instances' changes arrive with the next poll; a link code not in memory is looked up in
 * Postgres (another instance may have just created it) within a budget ({@link UnknownIdLookups}), so
 * random codes cannot turn into one query each.
 */
public final class ProgramCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(ProgramCatalog.class);
  private static final long POLL_OVERLAP_MS = 10_000;

  private final ProgramStore store;
  private final Map<String, Affiliate> affiliates = new ConcurrentHashMap<>();
  private final Map<String, TrackingLink> links = new ConcurrentHashMap<>();
  private final Map<String, String> promoAffiliates = new ConcurrentHashMap<>();
  private final Map<String, CommissionRule> rules = new ConcurrentHashMap<>();
  private final UnknownIdLookups unknownLinks;
  private volatile Instant newestSeen = Instant.EPOCH;

  public ProgramCatalog(ProgramStore store, UnknownIdLookups unknownLinks) {
    this.store = store;
    this.unknownLinks = unknownLinks;
  }

  public ProgramStore store() {
    return store;
  }

  public Affiliate affiliate(String id) {
    return id == null ? null : affiliates.get(id);
  }

  /** The affiliate a promo code on a surface belongs to, or null. */
  public String promoAffiliate(String surfaceId, String promoCode) {
    return promoCode == null ? null : promoAffiliates.get(surfaceId + '\n' + promoCode);
  }

  /** The affiliate's own rule for the event, else the surface default, else null (no commission). */
  public CommissionRule rule(String surfaceId, String eventType, String affiliateId) {
    CommissionRule own = rules.get(CommissionRule.key(surfaceId, eventType, affiliateId));
    return own != null ? own : rules.get(CommissionRule.key(surfaceId, eventType, null));
  }

  /** The link, from memory or (within the look-up budget) from Postgres; null when not known to exist. */
  public Future<TrackingLink> link(String code) {
    TrackingLink link = links.get(code);
    if (link != null) {
      return Future.succeededFuture(link);
    }
    return unknownLinks.lookUp(code, store::findLink).compose(found -> {
      if (found == null) {
        return Future.succeededFuture(null);
      }
      put(found);
      // The link's affiliate may be newer than the last poll as well.
      return affiliates.containsKey(found.affiliateId()) ? Future.succeededFuture(found)
          : store.findAffiliate(found.affiliateId()).map(a -> {
            if (a != null) {
              put(a);
            }
            return found;
          });
    });
  }

  public void put(Affiliate affiliate) {
    affiliates.merge(affiliate.id(), affiliate, (old, neu) -> neu.updatedAt().isBefore(old.updatedAt()) ? old : neu);
    seen(affiliate.updatedAt());
  }

  public void put(TrackingLink link) {
    links.put(link.code(), link);
    unknownLinks.known(link.code());
    if (link.promoCode() != null) {
      promoAffiliates.put(link.surfaceId() + '\n' + link.promoCode(), link.affiliateId());
    }
    seen(link.updatedAt());
  }

  public void put(CommissionRule rule) {
    rules.merge(rule.key(), rule, (old, neu) -> neu.updatedAt().isBefore(old.updatedAt()) ? old : neu);
    seen(rule.updatedAt());
  }

  /** Loads what changed since the last poll (everything on the first call). */
  public Future<Integer> refresh() {
    Instant since = newestSeen.equals(Instant.EPOCH) ? Instant.EPOCH : newestSeen.minusMillis(POLL_OVERLAP_MS);
    Future<Integer> a = store.affiliatesChangedSince(since).map(list -> {
      list.forEach(this::put);
      return list.size();
    });
    Future<Integer> l = store.linksChangedSince(since).map(list -> {
      list.forEach(this::put);
      return list.size();
    });
    Future<Integer> r = store.rulesChangedSince(since).map(list -> {
      list.forEach(this::put);
      return list.size();
    });
    return Future.all(a, l, r).map(all -> a.result() + l.result() + r.result())
        .onFailure(e -> LOG.warn("program catalog refresh failed: {}", e.toString()));
  }

  private void seen(Instant updatedAt) {
    if (updatedAt.isAfter(newestSeen)) {
      newestSeen = updatedAt;
    }
  }
}
