package io.postback.gateway.ingest;

import io.postback.gateway.attribution.Attributor;
import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.Attribution;
import io.postback.gateway.conversion.ConversionOutcome;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.dedupe.DedupeFilter;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.store.ApprovalWriter;
import io.postback.gateway.store.ConversionWriter.NewConversion;
import io.postback.gateway.store.ConversionWriter.WriteResult;
import io.postback.gateway.store.ConversionWriter;
import io.postback.gateway.store.RefundWriter;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one path every verified, validated conversion takes, whatever form it arrived in:
 * dedupe filter → attribute → write (committed) → remember the outcome → answer. Refunds take the
 * refund writer's locked transaction instead of attribute → batch write (SPEC §3.5).
 *
 * <p>Approval (see {@link ApprovalWriter} for the full semantics): a conversion that arrives rejected is
 * attributed but earns nothing. A repeat that states a status different from the known one (the
 * outcome remembered in Redis, or the stored row when the insert was refused) is not answered as a
 * plain duplicate: it goes to the approval writer's locked transaction, and the outcome remembered in
 * Redis is overwritten with the state after it.
 */
public final class ConversionPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(ConversionPipeline.class);

  /**
   * The answer for one postback: its JSON body and whether it was a duplicate. One conversion's answer is
   * its outcome, kept as such: its body is made only for whoever composes several answers into one, and
   * its encoding only once (a new conversion's is the encoding remembered in Redis as well). Whoever
   * changes a body makes a new Answer of it.
   */
  public static final class Answer {
    private ConversionOutcome outcome;
    private final Buffer remembered;
    private final boolean duplicate;
    private JsonObject body;
    private Buffer encoded;

    /** An answer that is not one conversion's outcome (a batch, a provider's event). */
    public Answer(JsonObject body, boolean duplicate) {
      this(null, null, duplicate, body, null);
    }

    private Answer(ConversionOutcome outcome, Buffer remembered, boolean duplicate, JsonObject body, Buffer encoded) {
      this.outcome = outcome;
      this.remembered = remembered;
      this.duplicate = duplicate;
      this.body = body;
      this.encoded = encoded;
    }

    /** One conversion's outcome; {@code encoded} is {@code outcome.encode(duplicate)} when it was made already. */
    static Answer of(ConversionOutcome outcome, boolean duplicate, Buffer encoded) {
      return new Answer(outcome, null, duplicate, null, encoded);
    }

    /**
     * A repeat answered from the outcome Redis remembers ({@code remembered}, as {@link ConversionOutcome#encode}
     * wrote it) with {@code repeat}, those bytes marked as a duplicate. The outcome is read from them only when
     * someone asks for it: most repeats are answered with the bytes alone, and the postback log reads only
     * the entries it writes.
     */
    static Answer remembered(Buffer remembered, Buffer repeat) {
      return new Answer(null, remembered, true, null, repeat);
    }

    /** Whether this is one conversion's answer, whose {@link #outcome} there is. */
    public boolean ofConversion() {
      return outcome != null || remembered != null;
    }

    /**
     * The conversion's outcome, or null when this answer is not one conversion's. Throws
     * IllegalArgumentException for a remembered outcome that cannot be read: bytes in Redis that begin as the
     * gateway's outcomes do but that it did not write.
     */
    public ConversionOutcome outcome() {
      if (outcome == null && remembered != null) {
        outcome = ConversionOutcome.decode(remembered);
      }
      return outcome;
    }

    public boolean duplicate() {
      return duplicate;
    }

    public JsonObject body() {
      if (body == null) {
        body = outcome().toJson(duplicate);
      }
      return body;
    }

    /** The body as sent. */
    public Buffer encoded() {
      if (encoded == null) {
        encoded = ofConversion() ? outcome().encode(duplicate) : body.toBuffer();
      }
      return encoded;
    }
  }

  private final DedupeFilter dedupe;
  private final Attributor attributor;
  private final ConversionWriter writer;
  private final RefundWriter refunds;
  private final ApprovalWriter approvals;
  private final GatewayMetrics metrics;

  public ConversionPipeline(DedupeFilter dedupe, Attributor attributor, ConversionWriter writer, RefundWriter refunds,
                            ApprovalWriter approvals, GatewayMetrics metrics) {
    this.dedupe = dedupe;
    this.attributor = attributor;
    this.writer = writer;
    this.refunds = refunds;
    this.approvals = approvals;
    this.metrics = metrics;
  }

  public Future<Answer> submit(Surface surface, ConversionRequest request) {
    return dedupe.claim(surface.id(), request.externalId()).compose(committed -> {
      if (committed != null && request.approval() == null) {
        // No status stated, so nothing to compare with the remembered one: the repeat is answered with the
        // remembered bytes, marked as a duplicate, when they begin as the gateway writes an outcome. Anything
        // else is read below, and what cannot be read is left to Postgres.
        Buffer repeat = ConversionOutcome.repeatOfFirstAnswer(committed);
        if (repeat != null) {
          metrics.postback("duplicate", "none");
          return Future.succeededFuture(Answer.remembered(committed, repeat));
        }
      }
      ConversionOutcome known = committed == null ? null : remembered(committed);
      if (known == null) {
        return store(surface, request);
      }
      if (differs(request, known.approval())) {
        // A stated status other than the remembered one: Postgres decides whether it is a transition.
        return transition(surface, request, null);
      }
      metrics.postback("duplicate", "none");
      return Future.succeededFuture(Answer.of(known, true, ConversionOutcome.repeatAnswer(committed)));
    });
  }

  /**
   * The outcome remembered in Redis, or null when the bytes are not one (a value written by something
   * else): then Postgres, which has the last word on duplicates, answers.
   */
  private static ConversionOutcome remembered(Buffer committed) {
    try {
      return ConversionOutcome.decode(committed);
    } catch (IllegalArgumentException e) {
      LOG.warn("a remembered outcome could not be read, asking Postgres: {}", e.getMessage());
      return null;
    }
  }

  /** Attribute and write (or refund), then remember and answer: the path of everything not answered by Redis. */
  private Future<Answer> store(Surface surface, ConversionRequest request) {
    Future<WriteResult> written = request.isRefund()
        ? refunds.refund(surface, Ids.timeOrdered("cv"), request)
        : attributor.attribute(surface, request)
            .compose(attribution -> writer.write(new NewConversion(Ids.timeOrdered("cv"), request,
                earning(request, attribution))))
            .compose(result -> !result.refundsPending() ? Future.succeededFuture(result)
                // The original is committed either way; a failure here is left to the sweeper.
                : refunds.applyPending(surface, request.externalId()).map(result).otherwise(result));
    return written.compose(result -> {
      if (!result.inserted() && differs(request, result.outcome().approval())) {
        return transition(surface, request, result.outcome());
      }
      Buffer encoded = result.outcome().encode(!result.inserted());
      dedupe.remember(surface.id(), request.externalId(),
          result.inserted() ? encoded : result.outcome().encode(false));
      metrics.postback(result.inserted() ? "accepted" : "duplicate", "none");
      if (result.inserted()) {
        metrics.attribution(result.outcome().status());
        if (result.outcome().commissionMinor() > 0) {
          metrics.commission(result.outcome().currency(), result.outcome().commissionMinor());
        }
      }
      return Future.succeededFuture(Answer.of(result.outcome(), !result.inserted(), encoded));
    });
  }

  /** Whether the request states an approval other than the known one (a refund states none). */
  private static boolean differs(ConversionRequest request, Approval known) {
    return !request.isRefund() && request.approval() != null && request.approval() != known;
  }

  /** A conversion that arrives rejected keeps its attribution (the affiliate is named) but earns nothing. */
  private static Attribution earning(ConversionRequest request, Attribution attribution) {
    if (request.approval() != Approval.REJECTED) {
      return attribution;
    }
    return attribution.earningNothing();
  }

  /**
   * Applies an approval transition (or finds there is none) in Postgres and answers it as a duplicate
   * with the state after it; that state replaces the outcome remembered in Redis.
   */
  private Future<Answer> transition(Surface surface, ConversionRequest request, ConversionOutcome known) {
    return approvals.apply(surface.id(), request.externalId(), request.approval()).compose(result -> {
      ConversionOutcome outcome;
      if (result != null) {
        outcome = result.outcome();
      } else if (known != null) {
        outcome = known;
      } else {
        // Remembered in Redis but not stored in Postgres (e.g. a restored database): Postgres decides.
        return store(surface, request);
      }
      dedupe.remember(surface.id(), request.externalId(), outcome.encode(false));
      metrics.postback("duplicate", "none");
      return Future.succeededFuture(Answer.of(outcome, true, null));
    });
  }
}
