package io.postback.gateway.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;

/**
 * One token bucket per key (a client address, a link), all with the same rate and burst, in a bounded
 * map: memory stays flat whatever the number of keys. A bucket untouched for longer than it takes to
 * refill completely is dropped, which changes nothing (a new bucket starts full too); when the map is
 * full the least valuable buckets are evicted first (Caffeine's W-TinyLFU), which at worst lets an
 * evicted key start again from a full bucket.
 */
public final class KeyedBuckets {
  private final int rate;
  private final int burst;
  private final Cache<String, TokenBucket> buckets;

  /** {@code rate} 0 means unlimited: {@link #take} always answers 0 and nothing is stored. */
  public KeyedBuckets(int rate, int burst, long maxKeys) {
    this.rate = rate;
    this.burst = burst;
    long refillMs = rate == 0 ? 1 : Math.max(1, burst * 1000L / rate);
    this.buckets = Caffeine.newBuilder()
        .maximumSize(maxKeys)
        .expireAfterAccess(Duration.ofMillis(refillMs + 1_000))
        .build();
  }

  public boolean unlimited() {
    return rate == 0;
  }

  /** Takes one token of the key's bucket; 0 when taken, else the nanoseconds until one is available. */
  public long take(String key) {
    if (rate == 0) {
      return 0;
    }
    return buckets.get(key, k -> new TokenBucket(rate, burst)).take();
  }

  /** Buckets held now (for tests and the memory bound). */
  public long size() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }
}
