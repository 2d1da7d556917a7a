package io.postback.gateway.delivery;

import io.postback.gateway.events.Event.EndpointDisabled;
import io.postback.gateway.events.EventOutbox;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The named SQL of the delivery side: fan-out, claim, recording attempts, endpoint state. */
public final class DeliveryStore {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryStore.class);
  // The fan-out of events into deliveries (deliveriesFor): a delivery per subscribed endpoint whose scope
  // the event is in. The relay runs it in one statement that locks a batch of un-fanned events (SKIP
  // LOCKED, so instances share the work), creates their deliveries and marks them fanned out, all in one
  // commit; the conversion writer runs it on the events it writes, in their own commit, and writes them
  // fanned out already. A disabled endpoint's delivery is recorded 'skipped' (not scheduled) so that a
  // replay can send it once the endpoint is enabled again. A delivery's id is derived from its event and endpoint
  // (delivery_id, V110): one (event, endpoint) has one id, so the primary key refuses a second delivery of
  // the same pair, and the delivery lives in its event's day partition. The endpoints are read with the lock
  // the deliveries' foreign key takes anyway (KEY SHARE): an endpoint deleted while the statement ran is
  // then passed over instead of failing the statement's foreign-key check, which would fail the whole
  // batch of conversions around it.
  //
  // The scope rule, the one place it is decided (docs/webhooks.md, "Scopes"): an endpoint scoped to an
  // affiliate gets only events about that affiliate; one scoped to a surface gets only events of that
  // surface, except that an endpoint scoped to an affiliate (with or without a surface) also gets that
  // affiliate's events that belong to no surface (affiliate.*, payout.*). Events about no surface and no
  // affiliate (endpoint.disabled) therefore reach unscoped endpoints only.
  // An affiliate postback template (kind affiliate_postback) is always scoped to its affiliate and to
  // conversion events; of conversion.created it gets only attributed conversions (not those credited to
  // a suspended or pending affiliate, which earn nothing).
  private static final String DELIVERIES_FOR = """
      INSERT INTO deliveries (id, event_id, endpoint_id, status)
      SELECT delivery_id(b.id, ep.id, b.created_at), b.id, ep.id, CASE WHEN ep.enabled THEN 'pending' ELSE 'skipped' END
        FROM %s b
        JOIN webhook_endpoints ep ON (ep.event_types IS NULL OR b.type = ANY (ep.event_types))
         AND (ep.affiliate_id IS NULL OR ep.affiliate_id = b.affiliate_id)
         AND (ep.surface_id IS NULL OR ep.surface_id = b.surface_id
              OR (b.surface_id IS NULL AND ep.affiliate_id IS NOT NULL))
         AND (ep.kind = 'webhook' OR b.type <> 'conversion.created' OR b.conversion_status = 'attributed')
         FOR KEY SHARE OF ep
      ON CONFLICT (id) DO NOTHING
      RETURNING id, next_attempt_at, status""";
  private static final String FAN_OUT = """
      WITH batch AS (
        SELECT id, type, surface_id, affiliate_id, created_at, data->>'status' AS conversion_status
          FROM events WHERE NOT fanned_out ORDER BY created_at LIMIT $1
           FOR UPDATE SKIP LOCKED
      ), marked AS (
        UPDATE events e SET fanned_out = true FROM batch b WHERE e.id = b.id RETURNING e.id
      ), created AS (
        %s
      )
      SELECT NULL AS id, NULL::timestamptz AS next_attempt_at, (SELECT count(*) FROM marked) AS events
      UNION ALL
      SELECT id, next_attempt_at, NULL FROM created WHERE status = 'pending'
      """.formatted(deliveriesFor("batch"));
  // The Postgres side of a claim: only deliveries that are still pending, due and not leased are taken,
  // leased until the lease expiry. A delivery Redis hands out twice (e.g. re-added after a FLUSHALL while
  // in flight) is therefore sent by one claimer only. leased_until is in no index: a HOT update.
  // The conditions sit inside a CASE so that the only one the planner can match to an index is the
  // primary key: written plainly, the generic plan ANDs a bitmap of deliveries_pending_idx (every
  // pending delivery is due by $3) with the key lookups, and each claim reads the whole backlog.
  // The ids come as a join with unnest, not "d.id = ANY ($1)": deliveries is partitioned by id, and a
  // generic plan prunes partitions at run time for a join key but not for an array, so ANY probes the
  // key index of every partition (docs/scaling.md, "Partitioning and retention").
  static final String CLAIM = """
      UPDATE deliveries d SET leased_until = $2
        FROM unnest($1::text[]) AS k(id), events e, webhook_endpoints ep
       WHERE d.id = k.id
         AND CASE WHEN d.status = 'pending' AND d.next_attempt_at <= $3
                   AND (d.leased_until IS NULL OR d.leased_until < $4) THEN true ELSE false END
         AND e.id = d.event_id AND ep.id = d.endpoint_id
      RETURNING d.id, d.attempts, d.retry_base, e.id AS event_id, e.type, e.created_at, e.data::text AS data,
                ep.id AS endpoint_id, ep.url, ep.secret, ep.previous_secret, ep.previous_secret_valid_until,
                ep.enabled, ep.timeout_ms, ep.max_in_flight, ep.kind, ep.method, ep.body_template, ep.sign_query
      """;
  // What an affiliate postback renders of the conversion its event is about (PostbackValues), read at send
  // time for postback deliveries only; keyed by surface as well, the distribution column of conversions.
  private static final String POSTBACK_CONVERSIONS = """
      SELECT c.id, c.surface_id, c.external_id, c.event_type, c.gross_minor, c.currency, c.click_id, c.affiliate_id,
             c.approval, c.commission_minor, c.commission_currency, c.link_code, c.click_ip, c.click_subs::text
        FROM conversions c JOIN unnest($1::text[], $2::text[]) AS k(surface_id, id) USING (surface_id, id)
      """;
  private static final String STATES = """
      SELECT d.id, d.status, greatest(d.next_attempt_at, d.leased_until) AS due
        FROM unnest($1::text[]) AS k(id) JOIN deliveries d ON d.id = k.id
      """;
  // Records attempts only where the delivery still expects exactly that attempt: the optimistic guard.
  // The guard sits inside a CASE for the reason the claim's does: written plainly, a generic plan made
  // while few deliveries were pending (statistics gathered after a burst had drained) hash-joins the
  // batch with a scan of deliveries_pending_idx, and each record then reads the whole backlog
  // (DeliveryClaimPlanTest).
  static final String RECORD = """
      WITH r AS (
        SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[],
                             $7::int[], $8::text[], $9::text[], $10::text[], $11::text[])
          AS t(delivery_id, attempt, status, attempted_at, next_attempt_at, status_code, latency_ms, outcome,
               error, response_body, endpoint_id)
      ), upd AS (
        UPDATE deliveries d
           SET status = r.status, attempts = r.attempt, next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at),
               leased_until = NULL, last_status_code = r.status_code, last_error = r.error, updated_at = now()
          FROM r
         WHERE d.id = r.delivery_id
           AND CASE WHEN d.attempts = r.attempt - 1 AND d.status = 'pending' THEN true ELSE false END
        RETURNING d.id
      )
      INSERT INTO delivery_attempts (delivery_id, endpoint_id, attempt, attempted_at, outcome, status_code, latency_ms,
                                     error, response_body)
      SELECT r.delivery_id, r.endpoint_id, r.attempt, r.attempted_at, r.outcome, r.status_code, r.latency_ms, r.error,
             r.response_body
        FROM r JOIN upd ON upd.id = r.delivery_id
      RETURNING delivery_id
      """;
  // The same CASE as the claim's and the record's: the key is the only index the plan can use.
  static final String RELEASE = """
      UPDATE deliveries d SET next_attempt_at = $2, leased_until = NULL
        FROM unnest($1::text[]) AS k(id)
       WHERE d.id = k.id AND CASE WHEN d.status = 'pending' THEN true ELSE false END
      """;
  private static final String ENDPOINTS_SUCCEEDED = """
      UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY ($1) AND failing_since IS NOT NULL
      """;
  private static final String ENDPOINTS_FAILED = """
      UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
       WHERE id = ANY ($1) AND enabled
      RETURNING id, failing_since <= now() - make_interval(secs => $2) AS too_long
      """;
  private static final String DISABLE = """
      UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now()
       WHERE id = $1 AND enabled RETURNING id
      """;
  private static final String KILL_PENDING = """
      UPDATE deliveries SET status = 'dead', last_error = $2, updated_at = now()
       WHERE endpoint_id = $1 AND status = 'pending'
      """;
  // A replay starts a fresh schedule (retry_base) that is due now.
  private static final String REPLAY_SET = """
      UPDATE deliveries SET status = 'pending', retry_base = attempts, next_attempt_at = now(), leased_until = NULL,
             last_error = NULL, updated_at = now()
      """;
  private static final String REPLAY_ONE = REPLAY_SET + """
       WHERE id = $1 AND status <> 'pending' RETURNING id, next_attempt_at
      """;
  // Dead deliveries, and the skipped ones of events that arrived while the endpoint was disabled.
  private static final String REPLAY_ENDPOINT = REPLAY_SET + """
       WHERE endpoint_id = $1 AND status IN ('dead', 'skipped') AND updated_at >= $2
      RETURNING id, next_attempt_at
      """;
  private static final String DUE_PAGE = """
      SELECT d.id, d.next_attempt_at FROM deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= now()
         AND (d.leased_until IS NULL OR d.leased_until < now())
         AND (d.next_attempt_at, d.id) > ($1, $2)
       ORDER BY d.next_attempt_at, d.id LIMIT $3
      """;
  private static final String COUNTS = """
      SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending,
             (SELECT count(*) FROM deliveries WHERE status = 'dead') AS dead
      """;

  private final Pool pool;

  public DeliveryStore(Pool pool) {
    this.pool = pool;
  }

  /** The outcome of one fan-out round: how many events it took, and the deliveries it created. */
  public record FanOut(int events, List<DeliveryQueue.Entry> created) {
  }

  /**
   * The statement that creates the deliveries of the events in relation {@code events} (columns id, type,
   * surface_id, affiliate_id, created_at and conversion_status, the status of a conversion event), for use as
   * a data-modifying CTE; it returns each created delivery's id, next_attempt_at and status. Pending ones
   * must then go on the Redis schedule ({@link DeliveryQueue#schedule}); should that fail, the
   * {@link ScheduleReconciler} adds them.
   */
  public static String deliveriesFor(String events) {
    return DELIVERIES_FOR.formatted(events);
  }

  public Future<FanOut> fanOut(int maxEvents) {
    return pool.preparedQuery(FAN_OUT).execute(Tuple.of(maxEvents)).map(rows -> {
      int events = 0;
      List<DeliveryQueue.Entry> created = new ArrayList<>(rows.size());
      for (Row r : rows) {
        if (r.getString(0) == null) {
          events = r.getLong(2).intValue();
        } else {
          created.add(new DeliveryQueue.Entry(r.getString(0), r.getOffsetDateTime(1).toInstant().toEpochMilli()));
        }
      }
      return new FanOut(events, created);
    });
  }

  /**
   * A claimed delivery with everything needed to send it. {@code kind} is the destination's: a webhook
   * endpoint, or an affiliate postback template ({@code method}, {@code bodyTemplate}, {@code signQuery}
   * and the macro values of its event, {@code postback}); null for webhooks.
   */
  public record Claimed(String id, int attempt, int attemptInSchedule, String eventId, String eventType,
                        Instant eventCreatedAt, String data, String endpointId, String url, String secret,
                        String previousSecret, boolean enabled, Integer timeoutMs, Integer maxInFlight,
                        DestinationKind kind, String method, String bodyTemplate, boolean signQuery,
                        PostbackTemplate.Values postback) {
    /** A webhook delivery. */
    public Claimed(String id, int attempt, int attemptInSchedule, String eventId, String eventType,
                   Instant eventCreatedAt, String data, String endpointId, String url, String secret,
                   String previousSecret, boolean enabled, Integer timeoutMs, Integer maxInFlight) {
      this(id, attempt, attemptInSchedule, eventId, eventType, eventCreatedAt, data, endpointId, url, secret,
          previousSecret, enabled, timeoutMs, maxInFlight, DestinationKind.WEBHOOK, null, null, false, null);
    }

    Claimed withPostback(PostbackTemplate.Values values) {
      return new Claimed(id, attempt, attemptInSchedule, eventId, eventType, eventCreatedAt, data, endpointId, url,
          secret, previousSecret, enabled, timeoutMs, maxInFlight, kind, method, bodyTemplate, signQuery, values);
    }
  }

  public Future<List<Claimed>> claim(List<String> ids, Instant leaseUntil, Instant dueBy) {
    return pool.preparedQuery(CLAIM)
        .execute(Tuple.of(ids.toArray(new String[0]), utc(leaseUntil), utc(dueBy), utc(Instant.now())))
        .map(rows -> {
          List<Claimed> out = new ArrayList<>(rows.size());
          Instant now = Instant.now();
          // Columns found by name once per result: Row#getString(name) scans the columns for every value read.
          List<String> names = rows.columnsNames();
          int id = names.indexOf("id");
          int attempts = names.indexOf("attempts");
          int retryBase = names.indexOf("retry_base");
          int eventId = names.indexOf("event_id");
          int type = names.indexOf("type");
          int createdAt = names.indexOf("created_at");
          int data = names.indexOf("data");
          int endpointId = names.indexOf("endpoint_id");
          int url = names.indexOf("url");
          int secret = names.indexOf("secret");
          int previousSecret = names.indexOf("previous_secret");
          int previousUntil = names.indexOf("previous_secret_valid_until");
          int enabled = names.indexOf("enabled");
          int timeoutMs = names.indexOf("timeout_ms");
          int maxInFlight = names.indexOf("max_in_flight");
          int kind = names.indexOf("kind");
          int method = names.indexOf("method");
          int bodyTemplate = names.indexOf("body_template");
          int signQuery = names.indexOf("sign_query");
          for (Row r : rows) {
            OffsetDateTime prevUntil = r.getOffsetDateTime(previousUntil);
            String prev = prevUntil != null && prevUntil.toInstant().isAfter(now) ? r.getString(previousSecret) : null;
            int made = r.getInteger(attempts);
            out.add(new Claimed(r.getString(id), made + 1, made + 1 - r.getInteger(retryBase),
                r.getString(eventId), r.getString(type), r.getOffsetDateTime(createdAt).toInstant(),
                r.getString(data), r.getString(endpointId), r.getString(url), r.getString(secret), prev,
                r.getBoolean(enabled), r.getInteger(timeoutMs), r.getInteger(maxInFlight),
                DestinationKind.of(r.getString(kind)), r.getString(method), r.getString(bodyTemplate),
                r.getBoolean(signQuery), null));
          }
          return out;
        })
        .compose(this::withPostbackValues);
  }

  /** Adds the macro values to claimed affiliate postbacks (one read for all of them); webhooks pass as they are. */
  private Future<List<Claimed>> withPostbackValues(List<Claimed> claimed) {
    if (claimed.stream().noneMatch(c -> c.kind() == DestinationKind.AFFILIATE_POSTBACK)) {
      return Future.succeededFuture(claimed);
    }
    // Each postback's event payload, read once; null where it cannot be (its attempt then fails, not the claim).
    JsonObject[] payloads = new JsonObject[claimed.size()];
    List<String> surfaces = new ArrayList<>();
    List<String> conversions = new ArrayList<>();
    for (int i = 0; i < claimed.size(); i++) {
      Claimed c = claimed.get(i);
      if (c.kind() != DestinationKind.AFFILIATE_POSTBACK) {
        continue;
      }
      try {
        payloads[i] = new JsonObject(c.data());
      } catch (RuntimeException e) {
        LOG.warn("the event payload of delivery {} could not be read: {}", c.id(), e.toString());
        continue;
      }
      if (payloads[i].getValue("conversionId") instanceof String id
          && payloads[i].getValue("surfaceId") instanceof String surface) {
        surfaces.add(surface);
        conversions.add(id);
      }
    }
    Future<Map<String, PostbackValues.Conversion>> found = conversions.isEmpty() ? Future.succeededFuture(Map.of())
        : pool.preparedQuery(POSTBACK_CONVERSIONS)
            .execute(Tuple.tuple().addArrayOfString(surfaces.toArray(new String[0]))
                .addArrayOfString(conversions.toArray(new String[0])))
            .map(rows -> {
              Map<String, PostbackValues.Conversion> byId = new HashMap<>();
              List<String> names = rows.columnsNames();
              int id = names.indexOf("id");
              int surface = names.indexOf("surface_id");
              int external = names.indexOf("external_id");
              int eventType = names.indexOf("event_type");
              int gross = names.indexOf("gross_minor");
              int currency = names.indexOf("currency");
              int click = names.indexOf("click_id");
              int affiliate = names.indexOf("affiliate_id");
              int approval = names.indexOf("approval");
              int commission = names.indexOf("commission_minor");
              int commissionCurrency = names.indexOf("commission_currency");
              int linkCode = names.indexOf("link_code");
              int clickIp = names.indexOf("click_ip");
              int clickSubs = names.indexOf("click_subs");
              for (Row r : rows) {
                String subs = r.getString(clickSubs);
                byId.put(r.getString(id), new PostbackValues.Conversion(r.getString(id), r.getString(surface),
                    r.getString(external), r.getString(eventType), r.getLong(gross), r.getString(currency),
                    r.getString(click), r.getString(affiliate), r.getString(approval), r.getLong(commission),
                    r.getString(commissionCurrency), r.getString(linkCode), r.getString(clickIp),
                    subs == null ? null : new JsonObject(subs)));
              }
              return byId;
            });
    return found.map(byId -> {
      List<Claimed> out = new ArrayList<>(claimed.size());
      for (int i = 0; i < claimed.size(); i++) {
        Claimed c = claimed.get(i);
        if (c.kind() != DestinationKind.AFFILIATE_POSTBACK) {
          out.add(c);
          continue;
        }
        // One delivery's odd payload must not fail the claim of its neighbours: without values its attempt fails.
        PostbackTemplate.Values values = null;
        JsonObject data = payloads[i];
        if (data != null) {
          try {
            String conversionId = data.getString("conversionId");
            values = PostbackValues.of(c.eventId(), c.eventType(), c.eventCreatedAt(), data,
                conversionId == null ? null : byId.get(conversionId));
          } catch (RuntimeException e) {
            LOG.warn("macro values of delivery {} could not be built: {}", c.id(), e.toString());
          }
        }
        out.add(c.withPostback(values));
      }
      return out;
    });
  }

  /** Where Postgres has ids that a claim did not take: a negative time means "not pending any more". */
  public Future<List<DeliveryQueue.Entry>> states(List<String> ids) {
    return pool.preparedQuery(STATES).execute(Tuple.of(ids.toArray(new String[0]))).map(rows -> {
      List<DeliveryQueue.Entry> out = new ArrayList<>();
      for (Row r : rows) {
        long at = r.getString("status").equals("pending")
            ? r.getOffsetDateTime("due").toInstant().toEpochMilli() : -1;
        out.add(new DeliveryQueue.Entry(r.getString("id"), at));
      }
      return out;
    });
  }

  /** One finished attempt, to be recorded. status is the delivery's new status; nextAttemptAt null unless pending. */
  public record Attempt(String deliveryId, String endpointId, int attempt, String status, Instant attemptedAt,
                        Instant nextAttemptAt, Integer statusCode, int latencyMs, String outcome, String error,
                        String responseBody) {
  }

  /** Records attempts in one statement; the future holds the ids whose attempt was recorded (guard passed). */
  public Future<List<String>> record(List<Attempt> attempts) {
    int n = attempts.size();
    String[] ids = new String[n];
    Integer[] numbers = new Integer[n];
    String[] statuses = new String[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    OffsetDateTime[] next = new OffsetDateTime[n];
    Integer[] codes = new Integer[n];
    Integer[] latencies = new Integer[n];
    String[] outcomes = new String[n];
    String[] errors = new String[n];
    String[] bodies = new String[n];
    String[] endpoints = new String[n];
    for (int i = 0; i < n; i++) {
      Attempt a = attempts.get(i);
      ids[i] = a.deliveryId();
      numbers[i] = a.attempt();
      statuses[i] = a.status();
      at[i] = utc(a.attemptedAt());
      next[i] = a.nextAttemptAt() == null ? null : utc(a.nextAttemptAt());
      codes[i] = a.statusCode();
      latencies[i] = a.latencyMs();
      outcomes[i] = a.outcome();
      errors[i] = a.error();
      bodies[i] = a.responseBody();
      endpoints[i] = a.endpointId();
    }
    Tuple args = Tuple.from(List.of(ids, numbers, statuses, at, next, codes, latencies, outcomes, errors, bodies,
        endpoints));
    return pool.preparedQuery(RECORD).execute(args).map(rows -> {
      List<String> recorded = new ArrayList<>(rows.size());
      for (Row r : rows) {
        recorded.add(r.getString(0));
      }
      return recorded;
    });
  }

  /** Hands claimed but unsent deliveries back: due again at {@code at}. */
  public Future<Void> release(List<String> ids, Instant at) {
    return pool.preparedQuery(RELEASE).execute(Tuple.of(ids.toArray(new String[0]), utc(at))).mapEmpty();
  }

  public Future<Void> endpointsSucceeded(List<String> endpointIds) {
    return pool.preparedQuery(ENDPOINTS_SUCCEEDED).execute(Tuple.of(endpointIds.toArray(new String[0]))).mapEmpty();
  }

  /** Marks endpoints as failing; the future holds those failing for longer than {@code disableAfterSeconds}. */
  public Future<List<String>> endpointsFailed(List<String> endpointIds, long disableAfterSeconds) {
    return pool.preparedQuery(ENDPOINTS_FAILED)
        .execute(Tuple.of(endpointIds.toArray(new String[0]), (double) disableAfterSeconds))
        .map(rows -> {
          List<String> tooLong = new ArrayList<>();
          for (Row r : rows) {
            if (Boolean.TRUE.equals(r.getBoolean("too_long"))) {
              tooLong.add(r.getString("id"));
            }
          }
          return tooLong;
        });
  }

  /**
   * Disables an endpoint, marks its pending deliveries dead (an operator replays them after fixing it)
   * and writes the endpoint.disabled event, in one transaction. True when this call disabled it. The event
   * carries the endpoint's id and the reason, never its URL (often a capability URL with a token in it),
   * and, being about no surface or affiliate, reaches unscoped endpoints only.
   */
  public Future<Boolean> disable(String endpointId, String reason) {
    return pool.withTransaction(tx -> tx.preparedQuery(DISABLE).execute(Tuple.of(endpointId, reason))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          return killPending(tx, endpointId, "endpoint disabled: " + reason)
              .compose(killed -> EventOutbox.append(tx, new EndpointDisabled(endpointId, reason)))
              .map(true);
        }));
  }

  /**
   * Marks an endpoint's pending deliveries dead ({@code reason} is their last error): a disabled endpoint
   * has dead deliveries (listed, replayable), not a growing pending queue. Pass the transaction that
   * disables it.
   */
  public static Future<Void> killPending(SqlClient tx, String endpointId, String reason) {
    return tx.preparedQuery(KILL_PENDING).execute(Tuple.of(endpointId, reason)).mapEmpty();
  }

  /** Replays one delivery that is not pending; the entry to schedule, or null when it is pending or unknown. */
  public static Future<DeliveryQueue.Entry> replayDelivery(SqlClient client, String deliveryId) {
    return client.preparedQuery(REPLAY_ONE).execute(Tuple.of(deliveryId))
        .map(rows -> rows.size() == 0 ? null : entries(rows).get(0));
  }

  /** Replays an endpoint's dead and skipped deliveries last changed at or after {@code since}; the entries to schedule. */
  public static Future<List<DeliveryQueue.Entry>> replayEndpoint(SqlClient client, String endpointId,
                                                                OffsetDateTime since) {
    return client.preparedQuery(REPLAY_ENDPOINT).execute(Tuple.of(endpointId, since)).map(DeliveryStore::entries);
  }

  private static List<DeliveryQueue.Entry> entries(RowSet<Row> rows) {
    List<DeliveryQueue.Entry> entries = new ArrayList<>(rows.size());
    for (Row r : rows) {
      entries.add(new DeliveryQueue.Entry(r.getString("id"), r.getOffsetDateTime("next_attempt_at").toInstant().toEpochMilli()));
    }
    return entries;
  }

  /** Due pending deliveries after the keyset cursor (next_attempt_at, id), for the reconciler. */
  public Future<RowSet<Row>> duePage(OffsetDateTime afterAt, String afterId, int limit) {
    return pool.preparedQuery(DUE_PAGE).execute(Tuple.of(afterAt, afterId, limit));
  }

  /** Global counts of pending and dead deliveries. */
  public Future<long[]> counts() {
    return pool.query(COUNTS).execute().map(rows -> {
      Row r = rows.iterator().next();
      return new long[] {r.getLong("pending"), r.getLong("dead")};
    });
  }

  public static OffsetDateTime utc(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
