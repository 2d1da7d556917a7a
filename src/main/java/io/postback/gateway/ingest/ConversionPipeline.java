package io.postback.gateway.ingest;

import io.postback.gateway.attribution.Attributor;
import io.postback.gateway.dedupe.DedupeFilter;
import io.postback.gateway.ops.GatewayMetrics;
import io.postback.gateway.store.ConversionWriter;
import io.postback.gateway.store.ConversionWriter.NewConversion;
import io.postback.gateway.store.ConversionWriter.WriteResult;
import io.postback.gateway.store.Ids;
import io.postback.gateway.store.RefundWriter;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * The one path every verified, validated conversion takes, whatever form it arrived in:
 * dedupe filter → attribute → write (committed) → remember the outcome → answer. Refunds take the
 * refund writer's locked transaction instead of attribute → batch write (SPEC §3.5).
 */
public final class ConversionPipeline {

  /** The answer for one conversion: the JSON body and whether it was a duplicate. */
  public record Answer(JsonObject body, boolean duplicate) {
  }

  private final DedupeFilter dedupe;
  private final Attributor attributor;
  private final ConversionWriter writer;
  private final RefundWriter refunds;
  private final GatewayMetrics metrics;

  public ConversionPipeline(DedupeFilter dedupe, Attributor attributor, ConversionWriter writer, RefundWriter refunds,
                            GatewayMetrics metrics) {
    this.dedupe = dedupe;
    this.attributor = attributor;
    this.writer = writer;
    this.refunds = refunds;
    this.metrics = metrics;
  }

  public Future<Answer> submit(Surface surface, ConversionRequest request) {
    return dedupe.claim(surface.id(), request.externalId()).compose(committed -> {
      if (committed != null) {
        metrics.postback("duplicate", "none");
        return Future.succeededFuture(new Answer(new JsonObject(committed).put("duplicate", true), true));
      }
      Future<WriteResult> written = request.isRefund()
          ? refunds.refund(surface, Ids.timeOrdered("cv"), request)
          : attributor.attribute(surface, request)
              .compose(attribution -> writer.write(new NewConversion(Ids.timeOrdered("cv"), request, attribution)))
              .compose(result -> !result.refundsPending() ? Future.succeededFuture(result)
                  // The original is committed either way; a failure here is left to the sweeper.
                  : refunds.applyPending(surface, request.externalId()).map(result).otherwise(result));
      return written.map(result -> {
        dedupe.remember(surface.id(), request.externalId(), result.outcome().toJson(false).encode());
        metrics.postback(result.inserted() ? "accepted" : "duplicate", "none");
        if (result.inserted()) {
          metrics.attribution(result.outcome().status());
          if (result.outcome().commissionMinor() > 0) {
            metrics.commission(result.outcome().currency(), result.outcome().commissionMinor());
          }
        }
        return new Answer(result.outcome().toJson(!result.inserted()), !result.inserted());
      });
    });
  }
}
