package io.postback.gateway.attribution;

import io.postback.gateway.click.ClickLookup;
import io.postback.gateway.conversion.Attribution;
import io.postback.gateway.conversion.Attribution.ClickCopy;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.conversion.ConversionStatus;
import io.postback.gateway.program.Affiliate;
import io.postback.gateway.program.CommissionRule;
import io.postback.gateway.program.ProgramCatalog;
import io.postback.gateway.surface.Surface;
import io.vertx.core.Future;

import java.time.Duration;
import java.time.ZoneOffset;

/**
 * SPEC §2 attribution: the conversion's click, when it belongs to the surface and lies inside the
 * surface's attribution window; otherwise the affiliate of its promo code; otherwise unattributed.
 * The credited affiliate earns per the commission rules only while active; a suspended or pending
 * affiliate is named with a status that says why it earns nothing. Rules, affiliates and promo codes
 * come from memory; the only I/O is the click lookup (Redis, then Postgres).
 *
 * <p>Recurring commissions: a conversion that names a customer and is not attributed by click or promo
 * code is credited to the affiliate who referred that customer (their first attributed conversion), when
 * the rule for its event type says {@code recurringMonths} and the conversion lies inside them (0: any
 * time). Only such conversions read Postgres for it.
 */
public final class RuleAttributor implements Attributor {
  /** Merchant and gateway clocks differ a little: a conversion this much "before" its click still counts. */
  static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
  public static final String TOO_FAST = "click_to_conversion_too_fast";

  private final ProgramCatalog catalog;
  private final ClickLookup clicks;
  private final CustomerReferrals referrals;

  public RuleAttributor(ProgramCatalog catalog, ClickLookup clicks, CustomerReferrals referrals) {
    this.catalog = catalog;
    this.clicks = clicks;
    this.referrals = referrals;
  }

  @Override
  public Future<Attribution> attribute(Surface surface, ConversionRequest request) {
    Future<Attribution> attribution = byClickOrPromoCode(surface, request);
    if (request.customerId() == null) {
      return attribution;
    }
    return attribution.compose(a -> a.affiliateId() != null ? Future.succeededFuture(a) : byCustomer(surface, request));
  }

  private Future<Attribution> byCustomer(Surface surface, ConversionRequest request) {
    return referrals.first(surface.id(), request.customerId()).map(referral -> {
      if (referral == null) {
        return Attribution.UNATTRIBUTED;
      }
      CommissionRule rule = catalog.rule(surface.id(), request.eventType(), referral.affiliateId());
      if (rule == null || rule.recurringMonths() == null) {
        return Attribution.UNATTRIBUTED;
      }
      int months = rule.recurringMonths();
      if (months > 0 && !request.occurredAt().isBefore(
          referral.firstAt().atOffset(ZoneOffset.UTC).plusMonths(months).toInstant())) {
        return Attribution.UNATTRIBUTED;
      }
      return credit(surface, request, referral.affiliateId(), null, null);
    });
  }

  private Future<Attribution> byClickOrPromoCode(Surface surface, ConversionRequest request) {
    if (request.clickId() == null) {
      return Future.succeededFuture(byPromoCode(surface, request));
    }
    return clicks.find(request.clickId()).map(click -> {
      if (click == null || !click.surfaceId().equals(surface.id())) {
        return byPromoCode(surface, request);
      }
      Duration elapsed = Duration.between(click.clickedAt(), request.occurredAt());
      if (elapsed.compareTo(CLOCK_SKEW.negated()) < 0 || elapsed.compareTo(surface.attributionWindow()) > 0) {
        return byPromoCode(surface, request);
      }
      String fraud = surface.minClickToConversion() != null && elapsed.compareTo(surface.minClickToConversion()) < 0
          ? TOO_FAST : null;
      return credit(surface, request, click.affiliateId(), fraud,
          new ClickCopy(click.linkCode(), click.ip(), click.subIds()));
    });
  }

  private Attribution byPromoCode(Surface surface, ConversionRequest request) {
    String affiliateId = catalog.promoAffiliate(surface.id(), request.promoCode());
    return affiliateId == null ? Attribution.UNATTRIBUTED : credit(surface, request, affiliateId, null, null);
  }

  private Attribution credit(Surface surface, ConversionRequest request, String affiliateId, String fraud, ClickCopy click) {
    Affiliate affiliate = catalog.affiliate(affiliateId);
    if (affiliate == null || !affiliate.active()) {
      ConversionStatus status = affiliate != null && Affiliate.SUSPENDED.equals(affiliate.status())
          ? ConversionStatus.AFFILIATE_SUSPENDED : ConversionStatus.AFFILIATE_PENDING;
      return new Attribution(status, affiliateId, 0, null, fraud, click);
    }
    CommissionRule rule = catalog.rule(surface.id(), request.eventType(), affiliateId);
    long commission = 0;
    String currency = null;
    if (rule != null && rule.flatMinor() != null) {
      commission = rule.flatMinor();
      currency = rule.currency();
    } else if (rule != null && request.grossMinor() != null && request.currency() != null) {
      commission = Commissions.percentage(request.grossMinor(), rule.percentBps());
      currency = request.currency();
    }
    return new Attribution(ConversionStatus.ATTRIBUTED, affiliateId, commission, commission == 0 ? null : currency, fraud,
        click);
  }
}
