package io.postback.gateway.portal;

import java.time.Instant;

/**
 * What a portal link lets its holder see: one surface, one affiliate, or one affiliate on one surface (the
 * same shape as a webhook endpoint's scope), until it expires. An object is in scope when its surface and
 * affiliate are exactly these, null included: a surface link does not see an affiliate's endpoints there.
 */
public record PortalScope(String surfaceId, String affiliateId, Instant expiresAt) {
  static final String KEY = "portal.scope";
}
