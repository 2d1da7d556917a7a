package io.postback.gateway.click;

import java.time.Instant;

/**
 * One visit through a tracking link.
 *
 * @param affiliateSuspended the link's affiliate was suspended when the click happened (still redirected)
 * @param subIds             sub1..sub5 from the query, null where absent
 */
public record Click(String id, String linkCode, String surfaceId, String affiliateId, Instant clickedAt, String ip,
                    String userAgent, String referrer, String[] subIds, boolean affiliateSuspended) {
}
