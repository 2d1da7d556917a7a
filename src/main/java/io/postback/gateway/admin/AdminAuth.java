package io.postback.gateway.admin;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ErrorResponder;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** {@code Authorization: Bearer <admin token>}, compared in constant time. */
public final class AdminAuth implements Handler<RoutingContext> {
  private final byte[] expected;

  public AdminAuth(String adminToken) {
    this.expected = ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
      ErrorResponder.send(ctx, ApiError.of(401, "unauthorized", "Send Authorization: Bearer <admin token>"));
      return;
    }
    ctx.next();
  }
}
