package io.postback.gateway.events;

import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * The one writer of the outbox. Pass the transaction's connection: the event then commits or rolls back
 * with the change that caused it, which is what makes delivery at-least-once without loss. (The
 * conversion hot path writes its events inside the batch statement of ConversionWriter instead, with
 * the payloads {@link Event} defines.)
 */
public final class EventOutbox {
  private static final String INSERT = "INSERT INTO events (id, type, surface_id, affiliate_id, data) "
      + "VALUES ($1, $2, $3, $4, $5)";
  private static final String INSERT_ONCE = INSERT + " ON CONFLICT (id) DO NOTHING";
  // Fanned out already: the caller writes the event's one delivery itself in the same transaction.
  private static final String INSERT_FANNED_OUT = "INSERT INTO events (id, type, surface_id, affiliate_id, data, "
      + "fanned_out) VALUES ($1, $2, $3, $4, $5, true)";

  private EventOutbox() {
  }

  public static String newEventId() {
    return Ids.timeOrdered("evt");
  }

  /**
   * Appends one event inside {@code tx}, for every endpoint subscribed to it (DeliveryStore's fan-out
   * matches endpoint scopes against its surface and affiliate); the future holds the event id.
   */
  public static Future<String> append(SqlClient tx, Event event) {
    String id = newEventId();
    return tx.preparedQuery(INSERT).execute(args(id, event)).map(id);
  }

  /**
   * Appends an event whose id the caller derives (so that work done again after a crash writes the
   * same event again, which is then a no-op).
   */
  public static Future<Void> appendOnce(SqlClient tx, String id, Event event) {
    return tx.preparedQuery(INSERT_ONCE).execute(args(id, event)).mapEmpty();
  }

  /** Appends an event with no fan-out: the caller addresses its deliveries itself (an endpoint test). */
  public static Future<Void> appendAddressed(SqlClient tx, String id, Event event) {
    return tx.preparedQuery(INSERT_FANNED_OUT).execute(args(id, event)).mapEmpty();
  }

  private static Tuple args(String id, Event event) {
    // The JsonObject itself: a String bound to a jsonb parameter would be stored as a JSON string.
    return Tuple.of(id, event.type(), event.surfaceId(), event.affiliateId(), event.data());
  }
}
