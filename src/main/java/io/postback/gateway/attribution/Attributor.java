package io.postback.gateway.attribution;

import io.postback.gateway.conversion.Attribution;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;

/** Decides the attribution of a conversion before it is written. */
@FunctionalInterface
public interface Attributor {
  Future<Attribution> attribute(Surface surface, ConversionRequest request);
}
