package io.postback.gateway.delivery;

import io.postback.gateway.redis.RedisChannel;
import io.postback.gateway.redis.RedisScript;
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
 *
 * <p>On a cluster the pair is split into {@code partitions} pairs ({@code {gw:dlv:<n>}}), each in its
 * own slot, so the schedule spreads over the masters: a delivery lives in the partition its id hashes
 * to, and a claim walks the partitions from a different one each time, so none is starved. With one
 * partition (the default) the keys are {@link #SCHEDULE} and {@link #LEASED}. Changing the count leaves the old keys
 * behind; the reconciler re-adds from Postgres whatever was due in them.
 */
public final class DeliveryQueue {
  /** The keys with one partition. */
  public static final String SCHEDULE = "{gw:dlv}:schedule";
  public static final String LEASED = "{gw:dlv}:leased";

  // Expired leases (a crashed or frozen claimer) go back to the schedule first; then up to ARGV[3] due
  // ids move from the schedule to the leased set, scored by the lease expiry.
  private static final RedisScript CLAIM = new RedisScript("""
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
      """);
  // Finishes claimed ids: ARGV holds pairs (id, score); score -1 drops the id, any other score puts it
  // back on the schedule at that time. Removing the lease and rescheduling are one step.
  private static final RedisScript FINISH = new RedisScript("""
      for i = 1, #ARGV, 2 do
        redis.call('ZREM', KEYS[2], ARGV[i])
        if ARGV[i + 1] ~= '-1' then
          redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
        end
      end
      return #ARGV / 2
      """);
  // Re-adds ids that Postgres has due and unleased: those on neither set (Redis restarted empty,
  // FLUSHALL, a lost ZADD), and orphans in the leased set: leases scored (expiry) below ARGV[1], i.e.
  // taken so long before Postgres was read that Postgres would show the lease if the claim had leased
  // them there (a claim script that ran late, after its caller had given up on it).
  private static final RedisScript RESTORE = new RedisScript("""
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
      """);

  private final RedisChannel redis;
  private final String[][] keys;
  private int nextClaim;

  public DeliveryQueue(RedisChannel redis, int partitions) {
    this.redis = redis;
    this.keys = new String[partitions][];
    for (int p = 0; p < partitions; p++) {
      keys[p] = partitions == 1 ? new String[] {SCHEDULE, LEASED}
          : new String[] {"{gw:dlv:" + p + "}:schedule", "{gw:dlv:" + p + "}:leased"};
    }
  }

  /** The schedule and leased keys of partition {@code p}. */
  public String[] keys(int p) {
    return keys[p].clone();
  }

  /** The partition of a delivery: String.hashCode is the same in every JVM, so every instance agrees. */
  int partitionOf(String deliveryId) {
    return Math.floorMod(deliveryId.hashCode(), keys.length);
  }

  private List<List<Entry>> byPartition(List<Entry> entries) {
    List<List<Entry>> out = new ArrayList<>(keys.length);
    for (int p = 0; p < keys.length; p++) {
      out.add(new ArrayList<>());
    }
    for (Entry e : entries) {
      out.get(partitionOf(e.deliveryId())).add(e);
    }
    return out;
  }

  /** A delivery id and its next-attempt time (epoch ms). */
  public record Entry(String deliveryId, long atMillis) {
  }

  /** Adds new deliveries to the schedule. */
  public Future<Void> schedule(List<Entry> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    // One batch per partition: a cluster refuses a batch whose keys span slots.
    List<Future<?>> sent = new ArrayList<>();
    List<List<Entry>> partitioned = byPartition(entries);
    for (int p = 0; p < keys.length; p++) {
      List<Entry> part = partitioned.get(p);
      List<Request> batch = new ArrayList<>();
      for (int from = 0; from < part.size(); from += 500) {
        Request zadd = Request.cmd(Command.ZADD).arg(keys[p][0]);
        for (Entry e : part.subList(from, Math.min(part.size(), from + 500))) {
          zadd.arg(e.atMillis()).arg(e.deliveryId());
        }
        batch.add(zadd);
      }
      if (!batch.isEmpty()) {
        sent.add(redis.batch(batch));
      }
    }
    return Future.all(sent).mapEmpty();
  }

  /** Atomically claims up to {@code limit} due ids, leasing them until {@code leaseUntil}. */
  public Future<List<String>> claim(long now, long leaseUntil, int limit) {
    int start = nextClaim;
    nextClaim = (nextClaim + 1) % keys.length;
    return claimFrom(start, 0, now, leaseUntil, limit, new ArrayList<>());
  }

  private Future<List<String>> claimFrom(int start, int walked, long now, long leaseUntil, int limit, List<String> claimed) {
    if (walked == keys.length || claimed.size() >= limit) {
      return Future.succeededFuture(claimed);
    }
    int p = (start + walked) % keys.length;
    return CLAIM.run(redis, keys[p], now, leaseUntil, limit - claimed.size()).compose(r -> {
      claimed.addAll(strings(r));
      return claimFrom(start, walked + 1, now, leaseUntil, limit, claimed);
    });
  }

  /** Finishes claimed ids: an entry's time reschedules it; a negative time drops it. */
  public Future<Void> finish(List<Entry> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Future<?>> sent = new ArrayList<>();
    List<List<Entry>> partitioned = byPartition(entries);
    for (int p = 0; p < keys.length; p++) {
      List<Entry> part = partitioned.get(p);
      if (part.isEmpty()) {
        continue;
      }
      Object[] args = new Object[part.size() * 2];
      for (int i = 0; i < part.size(); i++) {
        args[2 * i] = part.get(i).deliveryId();
        args[2 * i + 1] = part.get(i).atMillis() < 0 ? -1 : part.get(i).atMillis();
      }
      sent.add(FINISH.run(redis, keys[p], args));
    }
    return Future.all(sent).mapEmpty();
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
    List<Future<Long>> sent = new ArrayList<>();
    List<List<Entry>> partitioned = byPartition(entries);
    for (int p = 0; p < keys.length; p++) {
      List<Entry> part = partitioned.get(p);
      if (part.isEmpty()) {
        continue;
      }
      Object[] args = new Object[1 + part.size() * 2];
      args[0] = orphanedBefore;
      for (int i = 0; i < part.size(); i++) {
        args[1 + 2 * i] = part.get(i).deliveryId();
        args[2 + 2 * i] = part.get(i).atMillis();
      }
      sent.add(RESTORE.run(redis, keys[p], args).map(Response::toLong));
    }
    return sum(sent);
  }

  /** How many deliveries are leased right now (in flight somewhere). */
  public Future<Long> leasedCount() {
    List<Future<Long>> counts = new ArrayList<>();
    for (String[] k : keys) {
      counts.add(redis.send(Request.cmd(Command.ZCARD).arg(k[1])).map(Response::toLong));
    }
    return sum(counts);
  }

  private static Future<Long> sum(List<Future<Long>> parts) {
    return Future.all(parts).map(all -> parts.stream().mapToLong(Future::result).sum());
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
