package io.postback.gateway.attribution;

import io.postback.gateway.ingest.ConversionRequest;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;

/** Decides the attribution of a conversion before it is written. */
@FunctionalInterface
public interface Attributor {
  /** Until attribution rules exist every conversion stands unattributed. */
  Attributor NONE = (surface, request) -> Future.succeededFuture(Attribution.UNATTRIBUTED);

  Future<Attribution> attribute(Surface surface, ConversionRequest request);
}
