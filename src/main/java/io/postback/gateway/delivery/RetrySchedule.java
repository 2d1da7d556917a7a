package io.postback.gateway.delivery;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where retries are decided: {@link #verdict} turns an attempt's result into the delivery's next state
 * and time. A 2xx succeeds; 410 Gone, or an endpoint disabled meanwhile, ends the delivery (dead) at
 * once; any other failure or timeout is retried until the schedule runs out. The configured delays (GATEWAY_RETRY_SCHEDULE) sit between attempts, so
 * n delays mean n + 1 attempts; each delay gets ±20% jitter so that a failed burst does not come back
 * as a burst. A Retry-After answer replaces the delay, bounded to [1 s, retryAfterMax].
 */
public final class RetrySchedule {
  private static final double JITTER = 0.20;
  private static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);

  private final List<Duration> delays;
  private final Duration retryAfterMax;

  public RetrySchedule(List<Duration> delays, Duration retryAfterMax) {
    this.delays = List.copyOf(delays);
    this.retryAfterMax = retryAfterMax;
  }

  /** The delivery's state after an attempt (succeeded, pending or dead), and when it is next due (pending only). */
  public record Verdict(String state, Instant nextAttemptAt) {
    public static final String SUCCEEDED = "succeeded";
    public static final String PENDING = "pending";
    public static final String DEAD = "dead";
  }

  /**
   * What follows the {@code attemptInSchedule}-th attempt (1-based, counted from the last replay) of a
   * delivery, made at {@code attemptedAt} with result {@code r}; {@code now} is when it finished.
   */
  public Verdict verdict(int attemptInSchedule, boolean endpointEnabled, WebhookSender.Result r, Instant attemptedAt,
                         Instant now) {
    if (r.outcome() == WebhookSender.Outcome.SUCCESS) {
      return new Verdict(Verdict.SUCCEEDED, null);
    }
    if (r.gone() || !endpointEnabled) {
      return new Verdict(Verdict.DEAD, null);
    }
    Duration delay = nextDelay(attemptInSchedule, parseRetryAfter(r.retryAfter(), attemptedAt));
    return delay == null ? new Verdict(Verdict.DEAD, null) : new Verdict(Verdict.PENDING, now.plus(delay));
  }

  public int maxAttempts() {
    return delays.size() + 1;
  }

  /**
   * The delay before the next attempt after the {@code attemptInSchedule}-th attempt (1-based, counted
   * from the last replay) failed, or null when it was the last one: the delivery is dead.
   */
  public Duration nextDelay(int attemptInSchedule, Duration retryAfter) {
    if (attemptInSchedule >= maxAttempts()) {
      return null;
    }
    if (retryAfter != null) {
      if (retryAfter.compareTo(MIN_RETRY_AFTER) < 0) {
        return MIN_RETRY_AFTER;
      }
      return retryAfter.compareTo(retryAfterMax) > 0 ? retryAfterMax : retryAfter;
    }
    long base = delays.get(attemptInSchedule - 1).toMillis();
    double factor = 1 + (ThreadLocalRandom.current().nextDouble() * 2 - 1) * JITTER;
    return Duration.ofMillis(Math.max(1, Math.round(base * factor)));
  }

  /** Parses a Retry-After value: delay-seconds or an HTTP date; null when absent or unreadable. */
  public static Duration parseRetryAfter(String value, Instant now) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? null : Duration.ofSeconds(seconds);
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(now, at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException notDate) {
        return null;
      }
    }
  }
}
