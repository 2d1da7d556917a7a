package io.postback.gateway.surface;

import io.postback.gateway.limit.UnknownIdLookups;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Surfaces in memory, shared by every verticle of the instance, so the postback path never reads the
 * database for them. Changes made through this instance's admin API apply at once; changes made by
 * other instances arrive with the next poll (a few seconds). A surface not yet seen is looked up on
 * demand within a budget ({@link UnknownIdLookups}), so no volume of junk surface ids turns into as many
 * queries.
 */
public final class SurfaceRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(SurfaceRegistry.class);
  // Rows committed out of updated_at order are caught by re-reading a little behind the newest seen.
  private static final long POLL_OVERLAP_MS = 10_000;

  private final SurfaceStore store;
  private final Map<String, Surface> surfaces = new ConcurrentHashMap<>();
  private final UnknownIdLookups unknown;
  private volatile Instant newestSeen = Instant.EPOCH;

  public SurfaceRegistry(SurfaceStore store, UnknownIdLookups unknown) {
    this.store = store;
    this.unknown = unknown;
  }

  /** The cached surface, or null when not (yet) known here. Never blocks, never reads the database. */
  public Surface cached(String id) {
    return surfaces.get(id);
  }

  /** The surface, from memory or (within the look-up budget) from Postgres; null when not known to exist. */
  public Future<Surface> find(String id) {
    Surface s = surfaces.get(id);
    if (s != null) {
      return Future.succeededFuture(s);
    }
    return unknown.lookUp(id, store::find).map(found -> {
      if (found != null) {
        put(found);
      }
      return found;
    });
  }

  /** Applies a surface created or changed by this instance. */
  public void put(Surface surface) {
    surfaces.merge(surface.id(), surface, (old, neu) -> neu.updatedAt().isBefore(old.updatedAt()) ? old : neu);
    unknown.known(surface.id());
    if (surface.updatedAt().isAfter(newestSeen)) {
      newestSeen = surface.updatedAt();
    }
  }

  /** Loads surfaces changed since the last poll (all of them on the first call). */
  public Future<Integer> refresh() {
    Instant since = newestSeen.equals(Instant.EPOCH) ? Instant.EPOCH : newestSeen.minusMillis(POLL_OVERLAP_MS);
    return store.changedSince(since).map(changed -> {
      changed.forEach(this::put);
      return changed.size();
    }).onFailure(e -> LOG.warn("surface refresh failed: {}", e.toString()));
  }

  public List<Surface> all() {
    return List.copyOf(surfaces.values());
  }
}
