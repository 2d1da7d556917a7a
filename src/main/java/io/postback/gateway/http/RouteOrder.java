package io.postback.gateway.http;

/**
 * Where the hand-written hot paths (ingest, clicks, health) sit on the router. The OpenAPI router builder
 * creates the router with its root handlers on its first route (Vert.x numbers a router's routes from 1)
 * and then one route per admin and portal operation, most of them path patterns. A route added later is
 * matched after all of those, so every postback would first be tried against some eighty patterns. A route
 * of order {@link #HOT_PATH} instead is placed right after the root handlers (Vert.x keeps routes of equal
 * order in the order they were added) and before every operation. RouteCoverageTest checks the placement,
 * after the root handlers as well as before the operations.
 */
public final class RouteOrder {
  public static final int HOT_PATH = 1;

  private RouteOrder() {
  }
}
