package io.postback.gateway.admin;

import io.postback.gateway.http.ApiError;
import io.postback.gateway.http.ErrorResponder;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** {@code Authorization: Bearer <admin token>}, compared in constant time. */
public final class AdminAuth {
  private final byte[] expected;

  public AdminAuth(String adminToken) {
    this.expected = ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
  }

  /** True when the request carries the admin token; otherwise answers 401 and returns false. */
  public boolean admits(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
      ErrorResponder.send(ctx, ApiError.of(401, "unauthorized", "Send Authorization: Bearer <admin token>"));
      return false;
    }
    return true;
  }
}
