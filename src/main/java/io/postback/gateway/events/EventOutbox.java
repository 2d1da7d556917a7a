package io.postback.gateway.events;

import io.postback.gateway.ids.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Appends an event to the outbox. Pass the transaction's connection: the event then commits or rolls
 * back with the change that caused it, which is what makes delivery at-least-once without loss.
 * (The conversion hot path writes its events inside the batch statement of ConversionWriter instead.)
 */
public final class EventOutbox {
  private static final String INSERT = "INSERT INTO events (id, type, surface_id, affiliate_id, data) "
      + "VALUES ($1, $2, $3, $4, $5)";

  private EventOutbox() {
  }

  public static String newEventId() {
    return Ids.timeOrdered("evt");
  }

  /**
   * Appends one event inside {@code tx}; the future holds the event id. {@code surfaceId} and
   * {@code affiliateId} say whom the event is about (null: no single one); webhook endpoint scopes are
   * matched against them (DeliveryStore's fan-out), so pass them for every event that has them.
   */
  public static Future<String> append(SqlClient tx, String type, String surfaceId, String affiliateId, JsonObject data) {
    String id = newEventId();
    // The JsonObject itself: a String bound to a jsonb parameter would be stored as a JSON string.
    return tx.preparedQuery(INSERT).execute(Tuple.of(id, type, surfaceId, affiliateId, data)).map(id);
  }
}
