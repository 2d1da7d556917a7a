package io.postback.gateway.limit;

/**
 * A token bucket of {@code burst} tokens refilled at {@code rate} tokens per second: the one rate
 * limiter of the gateway (surface rate limits, click limits, the unknown-id look-up budget). Taking
 * is all or nothing, so a request that needs several tokens (a batch) never takes part of them.
 * Thread-safe: one bucket may be shared by the verticles of an instance.
 */
public final class TokenBucket {
  private final int rate;
  private final int burst;
  private double tokens;
  private long last;

  public TokenBucket(int rate, int burst) {
    if (rate <= 0 || burst <= 0) {
      throw new IllegalArgumentException("rate and burst must be positive");
    }
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.last = System.nanoTime();
  }

  public int rate() {
    return rate;
  }

  public int burst() {
    return burst;
  }

  /**
   * Takes {@code n} tokens (1 ≤ n ≤ burst), all or none; returns 0 when taken, else the nanoseconds
   * until {@code n} tokens will be available.
   */
  public synchronized long take(int n, long nowNanos) {
    if (n < 1 || n > burst) {
      throw new IllegalArgumentException("a bucket of " + burst + " tokens cannot give " + n);
    }
    tokens = Math.min(burst, tokens + Math.max(0, nowNanos - last) * rate / 1e9);
    last = nowNanos;
    if (tokens >= n) {
      tokens -= n;
      return 0;
    }
    return (long) Math.ceil((n - tokens) * 1e9 / rate);
  }

  /** Takes one token now; 0 or the nanoseconds until one is available. */
  public long take() {
    return take(1, System.nanoTime());
  }

  /** A wait as a Retry-After value: whole seconds, rounded up, at least 1. */
  public static int retryAfterSeconds(long waitNanos) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (waitNanos + 999_999_999L) / 1_000_000_000L));
  }
}
