package io.postback.gateway.provider;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** Postgres access for payment providers: each surface's provider webhook secrets and the events answered. */
public final class ProviderStore {
  private static final String COLUMNS = "provider, secret, previous_secret, previous_expires_at, updated_at";
  // Replacing a secret keeps the current one verifying for the grace time (0: not at all), like a
  // surface secret's rotation; a first PUT has no previous secret.
  private static final String PUT = "INSERT INTO surface_providers (surface_id, provider, secret) VALUES ($1, $2, $3) "
      + "ON CONFLICT (surface_id, provider) DO UPDATE SET secret = EXCLUDED.secret, "
      + "previous_secret = CASE WHEN $4 > 0 THEN surface_providers.secret END, "
      + "previous_expires_at = CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) END, updated_at = now() "
      + "RETURNING " + COLUMNS;
  private static final String FIND = "SELECT " + COLUMNS + " FROM surface_providers WHERE surface_id = $1 AND provider = $2";
  private static final String LIST = "SELECT " + COLUMNS + " FROM surface_providers WHERE surface_id = $1 ORDER BY provider";
  private static final String DELETE = "DELETE FROM surface_providers WHERE surface_id = $1 AND provider = $2";
  private static final String STRIPE_ORIGINAL = "SELECT external_id FROM stripe_payment_intents "
      + "WHERE surface_id = $1 AND payment_intent = $2";
  private static final String STRIPE_PAID = "INSERT INTO stripe_payment_intents (surface_id, payment_intent, external_id) "
      + "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
  private static final String SEEN = "SELECT answer FROM provider_events WHERE surface_id = $1 AND provider = $2 "
      + "AND event_id = $3";
  private static final String REMEMBER = "INSERT INTO provider_events (surface_id, provider, event_id, event_type, answer) "
      + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

  /**
   * A surface's webhook secret for one provider.
   *
   * @param previousSecret    the secret replaced last, still valid until {@code previousExpiresAt}, or null
   */
  public record ProviderSecret(Provider provider, String secret, String previousSecret, Instant previousExpiresAt,
                               Instant updatedAt) {

    /** The secrets that verify now: the current one, and the previous one during its grace time. */
    public List<String> live(Instant now) {
      return previousSecret != null && previousExpiresAt != null && previousExpiresAt.isAfter(now)
          ? List.of(secret, previousSecret) : List.of(secret);
    }

    /** What the admin API shows: never a secret. */
    public JsonObject toAdminJson(Instant now) {
      return new JsonObject()
          .put("provider", provider.id())
          .put("configured", true)
          .put("previousSecretValidUntil", live(now).size() > 1 ? previousExpiresAt.toString() : null)
          .put("updatedAt", updatedAt.toString());
    }
  }

  private final Pool pool;

  public ProviderStore(Pool pool) {
    this.pool = pool;
  }

  public Future<ProviderSecret> put(String surfaceId, Provider provider, String secret, Duration grace) {
    return pool.preparedQuery(PUT).execute(Tuple.of(surfaceId, provider.id(), secret, (double) grace.toMillis() / 1000.0))
        .map(rows -> toSecret(rows.iterator().next()));
  }

  public Future<ProviderSecret> find(String surfaceId, Provider provider) {
    return pool.preparedQuery(FIND).execute(Tuple.of(surfaceId, provider.id()))
        .map(rows -> rows.size() == 0 ? null : toSecret(rows.iterator().next()));
  }

  public Future<List<ProviderSecret>> list(String surfaceId) {
    return pool.preparedQuery(LIST).execute(Tuple.of(surfaceId)).map(rows -> {
      List<ProviderSecret> out = new ArrayList<>();
      rows.forEach(r -> out.add(toSecret(r)));
      return out;
    });
  }

  /** True when a secret was removed. */
  public Future<Boolean> delete(String surfaceId, Provider provider) {
    return pool.preparedQuery(DELETE).execute(Tuple.of(surfaceId, provider.id())).map(rows -> rows.rowCount() > 0);
  }

  /** Records that a Stripe payment intent paid the conversion {@code externalId} (a subscription invoice). */
  public Future<Void> stripePaid(String surfaceId, String paymentIntent, String externalId) {
    return pool.preparedQuery(STRIPE_PAID).execute(Tuple.of(surfaceId, paymentIntent, externalId)).mapEmpty();
  }

  /** The externalId of the conversion a Stripe payment intent paid when it is not the intent itself, or null. */
  public Future<String> stripeOriginal(String surfaceId, String paymentIntent) {
    return pool.preparedQuery(STRIPE_ORIGINAL).execute(Tuple.of(surfaceId, paymentIntent))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }

  /** The answer given to this event before, or null when it is new. */
  public Future<JsonObject> answered(String surfaceId, Provider provider, String eventId) {
    return pool.preparedQuery(SEEN).execute(Tuple.of(surfaceId, provider.id(), eventId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getJsonObject(0));
  }

  public Future<Void> remember(String surfaceId, Provider provider, String eventId, String eventType, JsonObject answer) {
    return pool.preparedQuery(REMEMBER).execute(Tuple.of(surfaceId, provider.id(), eventId, eventType, answer))
        .mapEmpty();
  }

  private static ProviderSecret toSecret(Row r) {
    OffsetDateTime expires = r.getOffsetDateTime("previous_expires_at");
    return new ProviderSecret(Provider.of(r.getString("provider")), r.getString("secret"), r.getString("previous_secret"),
        expires == null ? null : expires.toInstant(), r.getOffsetDateTime("updated_at").toInstant());
  }
}
