package io.postback.gateway.surface;

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
 * other instances arrive with the next poll (a few seconds). A surface not yet seen is looked up once
 * on demand; unknown ids are remembered briefly so junk traffic cannot hammer Postgres.
 */
public final class SurfaceRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(SurfaceRegistry.class);
  private static final long NEGATIVE_TTL_MS = 2_000;
  private static final int NEGATIVE_MAX = 10_000;
  // Rows committed out of updated_at order are caught by re-reading a little behind the newest seen.
  private static final long POLL_OVERLAP_MS = 10_000;

  private final SurfaceStore store;
  private final Map<String, Surface> surfaces = new ConcurrentHashMap<>();
  private final Map<String, Long> unknownUntil = new ConcurrentHashMap<>();
  private volatile Instant newestSeen = Instant.EPOCH;

  public SurfaceRegistry(SurfaceStore store) {
    this.store = store;
  }

  /** The cached surface, or null when not (yet) known here. Never blocks, never reads the database. */
  public Surface cached(String id) {
    return surfaces.get(id);
  }

  /** The surface, from memory or (once) from Postgres; null when no such surface exists. */
  public Future<Surface> find(String id) {
    Surface s = surfaces.get(id);
    if (s != null) {
      return Future.succeededFuture(s);
    }
    Long until = unknownUntil.get(id);
    if (until != null && until > System.currentTimeMillis()) {
      return Future.succeededFuture(null);
    }
    return store.find(id).map(found -> {
      if (found == null) {
        if (unknownUntil.size() >= NEGATIVE_MAX) {
          unknownUntil.clear();
        }
        unknownUntil.put(id, System.currentTimeMillis() + NEGATIVE_TTL_MS);
      } else {
        put(found);
      }
      return found;
    });
  }

  /** Applies a surface created or changed by this instance. */
  public void put(Surface surface) {
    surfaces.merge(surface.id(), surface, (old, neu) -> neu.updatedAt().isBefore(old.updatedAt()) ? old : neu);
    unknownUntil.remove(surface.id());
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
