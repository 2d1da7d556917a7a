package io.postback.gateway.batch;

import io.micrometer.core.instrument.DistributionSummary;
import io.postback.gateway.http.ApiError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Groups items into batches for one round trip each: the items added during one event-loop turn, and
 * those that queue up while earlier batches are in flight, are flushed together (at most
 * {@code maxBatch} per batch, at most {@code maxInFlight} batches at once). At low load a batch is one
 * item and waits for nothing; at high load batches grow by themselves. A writer may also give a regrouping
 * window (clicks: {@link #REGROUP}, 1 ms; conversions: GATEWAY_CONVERSION_REGROUP, 1 ms by default): a
 * completed batch then holds its place for at most that long, until the clients it answered are back (see
 * {@link #regroup}); delivery attempts give zero.
 *
 * <p>One bad row never fails its neighbours. A batch statement runs in one transaction, so a failed
 * statement committed nothing and may be run again in parts. When Postgres refuses the statement because
 * of a row, with a data error (SQLSTATE class 22: a value it cannot store) or an integrity error (class
 * 23: a constraint), the batch is split in halves and each half is written again, down to the single
 * refused row, so that every other row commits (k bad rows among n cost about 2k·log2(n) extra
 * statements). The refused row fails alone: a data error as {@code 400 invalid_field} naming the field
 * the writer finds at fault (see {@link Writer#diagnose}); an integrity error as {@code 500}, with an
 * ERROR log line, because every value was validated before it joined the batch and a constraint that
 * still refuses it is our bug (so is a value the writer cannot even encode: the same split isolates it,
 * answered 500). Any other failure (connection lost, Postgres shutting down or out of
 * resources, a timeout) is not about a row: the whole batch fails with it and splitting would only
 * multiply the load on a struggling database.
 *
 * <p>The queue is bounded: beyond {@code maxQueued} waiting items (Postgres slow or frozen), an item
 * fails at once with {@code 503} + Retry-After instead of building a backlog that no deadline would
 * ever see answered.
 *
 * <p>Not thread-safe: one batcher per verticle, used on that verticle's event loop.
 */
public final class MicroBatcher<T> {
  private static final Logger LOG = LoggerFactory.getLogger(MicroBatcher.class);
  /** How long a completed batch of clients' requests waits at most for the clients it answered. */
  public static final Duration REGROUP = Duration.ofMillis(1);

  /** What a micro-batched writer provides. */
  public interface Writer<T> {
    /**
     * Writes the batch with one statement (one transaction) and completes each item on success. A failed
     * future means the statement failed and committed nothing; the batcher then fails or splits the items.
     */
    Future<?> write(List<T> batch);

    /** Fails one item: its caller gets {@code error}. */
    void fail(T item, Throwable error);

    /**
     * For an item that Postgres refused alone with a data error: a 400 naming the field of the item that
     * cannot be stored, or null when none can be named.
     */
    ApiError diagnose(T item);
  }

  private final Context context;
  private final String name;
  private final int maxBatch;
  private final int maxInFlight;
  private final int maxQueued;
  private final Writer<T> writer;
  private final long regroupMs;
  private final DistributionSummary rowsPerStatement;
  private ArrayList<T> queue = new ArrayList<>();
  private int inFlight;
  private boolean drainScheduled;
  // A completed batch that still holds its place in flight (see regroup), and until when.
  private boolean holding;
  private int regroupAt;
  private long regroupTimer;

  /**
   * @param name      what the items are, for log lines ("conversions")
   * @param maxQueued items allowed to wait for a batch; more fail at once with 503
   * @param regroup   how long a completed batch waits at most for the clients it answered ({@link #regroup};
   *                  {@link #REGROUP} for items that are clients' requests), or zero: it does not wait
   * @param rowsPerStatement told the size of every batch written, halves of a refused batch included
   *                  ({@code GatewayMetrics#writeBatchRows})
   */
  public MicroBatcher(Context context, String name, int maxBatch, int maxInFlight, int maxQueued, Duration regroup,
                      DistributionSummary rowsPerStatement, Writer<T> writer) {
    this.context = context;
    this.name = name;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
    this.writer = writer;
    this.regroupMs = regroup.toMillis();
    this.rowsPerStatement = rowsPerStatement;
  }

  public void add(T item) {
    if (queue.size() >= maxQueued) {
      writer.fail(item, ApiError.retryable(503, "overloaded", "The gateway's queue of " + name + " waiting for "
          + "Postgres is full; nothing was recorded, retry later", 5));
      return;
    }
    queue.add(item);
    if (holding && queue.size() >= regroupAt) {
      release();
    } else {
      scheduleDrain();
    }
  }

  /**
   * Drains after the current event-loop turn, so that the items of every connection read in the same turn
   * share a batch: those added now, and, when a batch has just completed, those whose requests (or Redis
   * replies) the loop reads after that completion in the same turn.
   */
  private void scheduleDrain() {
    if (!drainScheduled) {
      drainScheduled = true;
      context.runOnContext(v -> {
        drainScheduled = false;
        drain();
      });
    }
  }

  private void drain() {
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      List<T> batch;
      if (queue.size() <= maxBatch) {
        batch = queue;
        queue = new ArrayList<>();
      } else {
        batch = new ArrayList<>(queue.subList(0, maxBatch));
        queue.subList(0, maxBatch).clear();
      }
      inFlight++;
      int answered = batch.size();
      write(batch).onComplete(ar -> regroup(answered));
    }
  }

  /**
   * A batch that answered {@code answered} items keeps its place in flight until they are back: until
   * {@code answered} more items wait than did when it completed, for at most the {@code regroup} given ({@link #REGROUP}). The
   * clients it answered send their next items at once, and those join the items that queued during its
   * commit in one batch. Without this, a steady load splits into batches that take turns, each with its
   * own commit, and a commit (its WAL flush, the statement's start-up) costs Postgres more than a dozen rows
   * do: clicks went from 16 to 31 rows per commit on the click benchmark (releasing at three quarters:
   * 25), conversions from 16 to 26 on the postback benchmark. Under a light load nothing waits: the next
   * item releases the place. One place is held at a time.
   */
  private void regroup(int answered) {
    if (regroupMs == 0 || holding) {
      inFlight--;
      scheduleDrain();
      return;
    }
    holding = true;
    regroupAt = queue.size() + answered;
    regroupTimer = context.owner().setTimer(regroupMs, id -> release());
  }

  private void release() {
    if (holding) {
      holding = false;
      context.owner().cancelTimer(regroupTimer);
      inFlight--;
      scheduleDrain();
    }
  }

  /** Writes the batch, splitting it on a row error; the future always succeeds once every item is answered. */
  private Future<Void> write(List<T> batch) {
    Future<?> written;
    rowsPerStatement.record(batch.size());
    try {
      written = writer.write(batch);
    } catch (RuntimeException e) {
      // Building the statement failed on a value before anything was sent: a row's fault as well.
      written = Future.failedFuture(new UnwritableRow(e));
    }
    return written.transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture();
      }
      Throwable failure = ar.cause();
      if (!isRowError(failure)) {
        batch.forEach(item -> writer.fail(item, failure));
        return Future.succeededFuture();
      }
      if (batch.size() == 1) {
        refuse(batch.get(0), failure);
        return Future.succeededFuture();
      }
      LOG.debug("a batch of {} {} was refused ({}); writing it again in halves", batch.size(), name, failure.toString());
      int half = batch.size() / 2;
      return Future.join(write(new ArrayList<>(batch.subList(0, half))),
          write(new ArrayList<>(batch.subList(half, batch.size())))).mapEmpty();
    });
  }

  /** A writer that threw while building the statement from the rows (a value it could not encode). */
  private static final class UnwritableRow extends RuntimeException {
    UnwritableRow(RuntimeException cause) {
      super(cause.toString(), cause);
    }
  }

  /**
   * A failure caused by the values of a row, which splitting can isolate: Postgres' SQLSTATE class 22 or
   * 23, or a value the writer could not encode at all.
   */
  static boolean isRowError(Throwable failure) {
    if (failure instanceof UnwritableRow) {
      return true;
    }
    if (!(failure instanceof PgException pg) || pg.getSqlState() == null) {
      return false;
    }
    return pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23");
  }

  private void refuse(T item, Throwable failure) {
    if (failure instanceof UnwritableRow unwritable) {
      LOG.error("one of the {} could not be written; every value was validated before it joined the batch, so "
          + "this is a bug", name, unwritable.getCause());
      writer.fail(item, ApiError.of(500, "internal_error",
          "The gateway failed to record this item; nothing was recorded"));
      return;
    }
    PgException refused = (PgException) failure;
    String state = refused.getSqlState();
    if (state.startsWith("23")) {
      LOG.error("Postgres refused one of the {} with an integrity error ({} {}, table {}, constraint {}); every value "
          + "was validated before it joined the batch, so this is a bug", name, state, refused.getErrorMessage(),
          refused.getTable(), refused.getConstraint());
      writer.fail(item, ApiError.of(500, "internal_error",
          "The gateway failed to record this item (a storage constraint refused it); nothing was recorded"));
      return;
    }
    ApiError diagnosed = writer.diagnose(item);
    if (diagnosed != null) {
      LOG.warn("Postgres refused one of the {} ({}): {}", name, state, diagnosed.getMessage());
      writer.fail(item, diagnosed);
      return;
    }
    // Validation and diagnosis both missed a value Postgres cannot store: answered as the sender's data
    // (retrying cannot help), logged as ours to fix.
    LOG.error("Postgres refused one of the {} with a data error ({} {}) that no field check explains", name, state,
        refused.getErrorMessage());
    writer.fail(item, ApiError.of(400, "invalid_field", "A value of this item cannot be stored (Postgres refused it "
        + "with SQLSTATE " + state + "); check the text fields for NUL characters or unpaired surrogates and the "
        + "numbers for their ranges"));
  }
}
