package io.postback.gateway.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Every request gets an answer within the deadline, counted from the moment its head was read: a
 * request still unanswered then (Postgres or Redis frozen, a queue stalled) is answered
 * {@code 503 deadline_exceeded} with Retry-After, once. Its work is not cancelled and may still commit
 * afterwards, which SPEC §3.1 allows: a non-200 means "not known to be recorded; retrying is safe", and
 * the retry is answered as a duplicate. Whoever answers later finds the response ended and must not
 * write again ({@link #answered}).
 *
 * <p>Cheap on the hot path: every request has the same deadline, so requests expire in the order they
 * arrived. They are kept in one intrusive FIFO list per verticle (append and unlink are O(1), no timer
 * per request); one periodic sweep on the verticle's event loop expires the oldest. A request is
 * answered at most one sweep interval ({@code deadline/20}, 10–250 ms) after its deadline.
 *
 * <p>One instance per HTTP verticle; everything runs on that verticle's event loop.
 */
public final class RequestDeadline implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(RequestDeadline.class);
  private static final String KEY = RequestDeadline.class.getName();
  private static final int RETRY_AFTER_SECONDS = 5;

  private final long deadlineMs;
  private final ApiError expired;
  private final Entry head = new Entry(null, 0);

  /** Starts the sweep: call from the verticle's start(), so the timer is the verticle's (cancelled with it). */
  public RequestDeadline(Vertx vertx, Duration deadline) {
    this.deadlineMs = deadline.toMillis();
    this.expired = ApiError.retryable(503, "deadline_exceeded", "No answer within " + deadlineMs + " ms (a storage "
        + "dependency is slow or unavailable); not known to be recorded, retrying is safe", RETRY_AFTER_SECONDS);
    head.prev = head;
    head.next = head;
    vertx.setPeriodic(Math.max(10, Math.min(250, deadlineMs / 20)), id -> sweep(System.currentTimeMillis()));
  }

  /** A request waiting for its answer, linked in arrival order. */
  private static final class Entry {
    final RoutingContext ctx;
    final long expiresAt;
    Handler<ApiError> onExpiry;
    Entry prev;
    Entry next;

    Entry(RoutingContext ctx, long expiresAt) {
      this.ctx = ctx;
      this.expiresAt = expiresAt;
    }

    void unlink() {
      if (prev != null) {
        prev.next = next;
        next.prev = prev;
        prev = null;
        next = null;
      }
    }
  }

  @Override
  public void handle(RoutingContext ctx) {
    Entry entry = new Entry(ctx, System.currentTimeMillis() + deadlineMs);
    entry.prev = head.prev;
    entry.next = head;
    head.prev.next = entry;
    head.prev = entry;
    ctx.put(KEY, entry);
    ctx.addEndHandler(v -> entry.unlink());
    ctx.next();
  }

  /**
   * Lets a route answer its own expiry (its format, its log and metrics) instead of the default JSON
   * 503; {@code answer} gets the 503 to send and is called at most once, before anything was written.
   */
  public static void onExpiry(RoutingContext ctx, Handler<ApiError> answer) {
    Entry entry = ctx.get(KEY);
    if (entry != null) {
      entry.onExpiry = answer;
    }
  }

  /** True when the request was already answered (by its deadline, or it ended otherwise): write nothing more. */
  public static boolean answered(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    return response.ended() || response.closed();
  }

  private void sweep(long now) {
    while (head.next != head && head.next.expiresAt <= now) {
      Entry entry = head.next;
      entry.unlink();
      // A response already under way (its head sent) is left to finish.
      if (entry.ctx.response().headWritten() || entry.ctx.response().closed()) {
        continue;
      }
      try {
        if (entry.onExpiry != null) {
          entry.onExpiry.handle(expired);
        } else {
          ErrorResponder.send(entry.ctx, expired);
        }
      } catch (RuntimeException e) {
        LOG.error("answering an expired request failed", e);
      }
    }
  }
}
