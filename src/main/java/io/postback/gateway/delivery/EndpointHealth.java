package io.postback.gateway.delivery;

import io.postback.gateway.config.GatewayConfig.DeliverySettings;
import io.postback.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Endpoint health after recorded attempts: a success clears an endpoint's failing streak, a failure
 * starts or extends it, and an endpoint is disabled when it answers 410 Gone or has failed continuously
 * for {@code endpointDisableAfter} (its pending deliveries turn dead, and endpoint.disabled is emitted).
 */
final class EndpointHealth {
  private static final Logger LOG = LoggerFactory.getLogger(EndpointHealth.class);

  private final DeliveryStore store;
  private final DeliverySettings settings;
  private final GatewayMetrics metrics;

  EndpointHealth(DeliveryStore store, DeliverySettings settings, GatewayMetrics metrics) {
    this.store = store;
    this.settings = settings;
    this.metrics = metrics;
  }

  /**
   * Updates the endpoints of one batch of recorded attempts. An endpoint with a success in the batch
   * is not failing, whatever else the batch holds.
   */
  Future<Void> update(Collection<String> succeeded, Collection<String> failed, Collection<String> gone) {
    Set<String> failing = new HashSet<>(failed);
    failing.removeAll(succeeded);
    Future<Void> ok = succeeded.isEmpty() ? Future.succeededFuture() : store.endpointsSucceeded(List.copyOf(succeeded));
    Future<Void> bad = failing.isEmpty() ? Future.succeededFuture()
        : store.endpointsFailed(List.copyOf(failing), settings.disableAfter().toSeconds())
            .compose(tooLong -> disableAll(tooLong, "failing continuously for " + settings.disableAfter()));
    Future<Void> gones = disableAll(List.copyOf(gone), "the endpoint answered 410 Gone");
    return Future.join(ok, bad, gones).mapEmpty();
  }

  private Future<Void> disableAll(List<String> endpointIds, String reason) {
    List<Future<Boolean>> all = new ArrayList<>();
    for (String id : endpointIds) {
      all.add(store.disable(id, reason).andThen(ar -> {
        if (ar.succeeded() && ar.result()) {
          metrics.endpointDisabled();
          LOG.warn("webhook endpoint {} disabled: {}", id, reason);
        }
      }));
    }
    return Future.join(all).mapEmpty();
  }
}
