package io.postback.gateway.delivery;

import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;

/**
 * The Redis side of delivery: a schedule (sorted set of delivery ids scored by next-attempt time,
 * epoch ms) and a leased set (claimed ids scored by lease expiry). Every move between the two is one
 * Lua script, so a delivery is in at most one of them and only one claimer ever gets it. Both keys
 * share a hash tag, so the scripts also run on Redis Cluster. Postgres stays the truth: anything
 * Redis loses is re-added from there by {@link #restore}.
 */
public final class DeliveryQueue {
  public static final String SCHEDULE = "{gw:dlv}:schedule";
  public static final String LEASED = "{gw:dlv}:leased";

  // Expired leases (a crashed or frozen claimer) go back to the schedule first; then up to ARGV[3] due
  // ids move from the schedule to the leased set, scored by the lease expiry.
  private static final String CLAIM = """
      local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
      for _, m in ipairs(expired) do
        redis.call('ZREM', KEYS[2], m)
        redis.call('ZADD', KEYS[1], ARGV[1], m)
      end
      local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
      for _, m in ipairs(due) do
        redis.call('ZREM', KEYS[1], m)
        redis.call('ZADD', KEYS[2], ARGV[2], m)
      end
      return due
      """;
  // Finishes claimed ids: ARGV holds pairs (id, score); score -1 drops the id, any other score puts it
  // back on the schedule at that time. Removing the lease and rescheduling are one step.
  private static final String FINISH = """
      for i = 1, #ARGV, 2 do
        redis.call('ZREM', KEYS[2], ARGV[i])
        if ARGV[i + 1] ~= '-1' then
          redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
        end
      end
      return #ARGV / 2
      """;
  // Re-adds ids that Postgres has due and unleased: those on neither set (Redis restarted empty,
  // FLUSHALL, a lost ZADD), and orphans in the leased set: leases scored (expiry) below ARGV[1], i.e.
  // taken so long before Postgres was read that Postgres would show the lease if the claim had leased
  // them there (a claim script that ran late, after its caller had given up on it).
  private static final String RESTORE = """
      local added = 0
      for i = 2, #ARGV, 2 do
        local leased = redis.call('ZSCORE', KEYS[2], ARGV[i])
        if leased and tonumber(leased) < tonumber(ARGV[1]) then
          redis.call('ZREM', KEYS[2], ARGV[i])
          leased = false
        end
        if not leased then
          added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i])
        end
      end
      return added
      """;

  private final RedisChannel redis;

  public DeliveryQueue(RedisChannel redis) {
    this.redis = redis;
  }

  /** A delivery id and its next-attempt time (epoch ms). */
  public record Entry(String deliveryId, long atMillis) {
  }

  /** Adds new deliveries to the schedule. */
  public Future<Void> schedule(List<Entry> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Request> batch = new ArrayList<>();
    for (int from = 0; from < entries.size(); from += 500) {
      Request zadd = Request.cmd(Command.ZADD).arg(SCHEDULE);
      for (Entry e : entries.subList(from, Math.min(entries.size(), from + 500))) {
        zadd.arg(e.atMillis()).arg(e.deliveryId());
      }
      batch.add(zadd);
    }
    return redis.batch(batch).mapEmpty();
  }

  /** Atomically claims up to {@code limit} due ids, leasing them until {@code leaseUntil}. */
  public Future<List<String>> claim(long now, long leaseUntil, int limit) {
    Request eval = Request.cmd(Command.EVAL).arg(CLAIM).arg(2).arg(SCHEDULE).arg(LEASED)
        .arg(now).arg(leaseUntil).arg(limit);
    return redis.send(eval).map(DeliveryQueue::strings);
  }

  /** Finishes claimed ids: an entry's time reschedules it; a negative time drops it. */
  public Future<Void> finish(List<Entry> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    Request eval = Request.cmd(Command.EVAL).arg(FINISH).arg(2).arg(SCHEDULE).arg(LEASED);
    for (Entry e : entries) {
      eval.arg(e.deliveryId()).arg(e.atMillis() < 0 ? -1 : e.atMillis());
    }
    return redis.send(eval).mapEmpty();
  }

  /**
   * Re-adds ids that Postgres has due and unleased and that are neither scheduled nor validly leased: a
   * lease whose expiry lies before {@code orphanedBefore} is an orphan and goes too. The future holds how
   * many were re-added.
   */
  public Future<Long> restore(List<Entry> entries, long orphanedBefore) {
    if (entries.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    Request eval = Request.cmd(Command.EVAL).arg(RESTORE).arg(2).arg(SCHEDULE).arg(LEASED).arg(orphanedBefore);
    for (Entry e : entries) {
      eval.arg(e.deliveryId()).arg(e.atMillis());
    }
    return redis.send(eval).map(Response::toLong);
  }

  /** How many deliveries are leased right now (in flight somewhere). */
  public Future<Long> leasedCount() {
    return redis.send(Request.cmd(Command.ZCARD).arg(LEASED)).map(Response::toLong);
  }

  private static List<String> strings(Response r) {
    List<String> out = new ArrayList<>(r == null ? 0 : r.size());
    if (r != null) {
      for (Response item : r) {
        out.add(item.toString());
      }
    }
    return out;
  }
}
