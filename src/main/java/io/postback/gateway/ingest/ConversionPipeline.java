package io.postback.gateway.ingest;

import io.postback.gateway.attribution.Attributor;
import io.postback.gateway.dedupe.DedupeFilter;
import io.postback.gateway.ops.GatewayMetrics;
import io.postback.gateway.store.ConversionWriter;
import io.postback.gateway.store.ConversionWriter.NewConversion;
import io.postback.gateway.store.Ids;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * The one path every verified, validated conversion takes, whatever form it arrived in:
 * dedupe filter → attribute → write (committed) → remember the outcome → answer.
 */
public final class ConversionPipeline {

  /** The answer for one conversion: the JSON body and whether it was a duplicate. */
  public record Answer(JsonObject body, boolean duplicate) {
  }

  private final DedupeFilter dedupe;
  private final Attributor attributor;
  private final ConversionWriter writer;
  private final GatewayMetrics metrics;

  public ConversionPipeline(DedupeFilter dedupe, Attributor attributor, ConversionWriter writer,
                            GatewayMetrics metrics) {
    this.dedupe = dedupe;
    this.attributor = attributor;
    this.writer = writer;
    this.metrics = metrics;
  }

  public Future<Answer> submit(Surface surface, ConversionRequest request) {
    return dedupe.claim(surface.id(), request.externalId()).compose(committed -> {
      if (committed != null) {
        metrics.postback("duplicate", "none");
        return Future.succeededFuture(new Answer(new JsonObject(committed).put("duplicate", true), true));
      }
      return attributor.attribute(surface, request)
          .compose(attribution -> writer.write(new NewConversion(Ids.timeOrdered("cv"), request, attribution)))
          .map(result -> {
            dedupe.remember(surface.id(), request.externalId(), result.outcome().toJson(false).encode());
            metrics.postback(result.inserted() ? "accepted" : "duplicate", "none");
            return new Answer(result.outcome().toJson(!result.inserted()), !result.inserted());
          });
    });
  }
}
