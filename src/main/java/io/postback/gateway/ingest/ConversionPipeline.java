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

  /**
   * The answer for one conversion: the JSON body, whether it was a duplicate, and the body's encoding when
   * the pipeline already made it (else null): a new conversion's answer is the outcome remembered in Redis,
   * encoded once for both. Whoever changes a body makes a new Answer of it.
   */
  public record Answer(JsonObject body, boolean duplicate, Buffer encoded) {
    public Answer(JsonObject body, boolean duplicate) {
      this(body, duplicate, null);
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
      if (committed != null) {
        JsonObject cached = new JsonObject(committed);
        // A repeat that states no status is a plain duplicate: the remembered outcome is not read into one.
        if (request.approval() == null || !differs(request, ConversionOutcome.fromJson(cached).approval())) {
          metrics.postback("duplicate", "none");
          return Future.succeededFuture(new Answer(cached.put("duplicate", true), true));
        }
        // A stated status other than the remembered one: Postgres decides whether it is a transition.
        return transition(surface, request, null);
      }
      return store(surface, request);
    });
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
      JsonObject body = result.outcome().toJson(!result.inserted());
      Buffer encoded = body.toBuffer();
      dedupe.remember(surface.id(), request.externalId(),
          result.inserted() ? encoded : result.outcome().toJson(false).toBuffer());
      metrics.postback(result.inserted() ? "accepted" : "duplicate", "none");
      if (result.inserted()) {
        metrics.attribution(result.outcome().status());
        if (result.outcome().commissionMinor() > 0) {
          metrics.commission(result.outcome().currency(), result.outcome().commissionMinor());
        }
      }
      return Future.succeededFuture(new Answer(body, !result.inserted(), encoded));
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
      dedupe.remember(surface.id(), request.externalId(), outcome.toJson(false).toBuffer());
      metrics.postback("duplicate", "none");
      return Future.succeededFuture(new Answer(outcome.toJson(true), true));
    });
  }
}
