package io.postback.gateway.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.postback.gateway.batch.MicroBatcher;
import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.Attribution;
import io.postback.gateway.conversion.Attribution.ClickCopy;
import io.postback.gateway.conversion.ConversionOutcome;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.conversion.ConversionStatus;
import io.postback.gateway.delivery.DeliveryQueue;
import io.postback.gateway.delivery.DeliveryStore;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ids.Ids;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.text.StorableText;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes conversions in micro-batches: the rows of all requests that arrive while earlier batches are
 * in flight go to Postgres together as one {@code INSERT ... SELECT FROM unnest(...) ON CONFLICT DO
 * NOTHING}, one round trip and one commit for the lot. At low load a batch is one row and waits for
 * nothing; at high load batches grow by themselves. Rows the unique constraint refused are read
 * back, so their callers get the original outcome. A row Postgres refuses fails alone
 * ({@link MicroBatcher}): the statement is one transaction, so a failed attempt wrote nothing and its
 * halves can be written again.
 *
 * <p>One writer per verticle; all methods run on that verticle's event loop.
 */
public final class ConversionWriter {
  private static final Logger LOG = LoggerFactory.getLogger(ConversionWriter.class);
  private static final int MAX_BATCH = 256;
  private static final JsonFactory JSON = new JsonFactory();
  // Postgres numeric: at most 131072 digits before the decimal point and 16383 after it.
  private static final int NUMERIC_MAX_INTEGER_DIGITS = 131_072;
  private static final int NUMERIC_MAX_SCALE = 16_383;
  // One statement, so one atomic commit: the rows and everything written because of them.
  // Capabilities that must write in the same transaction add a CTE reading from "inserted". Its events
  // carry the payloads defined in Event (ConversionCreated, CommissionCreated, FraudDetected,
  // ConversionRejected), field for field; EventPayloadTest holds the two together.
  // The events are fanned out here, in their own commit, for the endpoints subscribed at that moment, and
  // written fanned out: the outbox relay would otherwise lock, update (a new row version, not HOT: the
  // not-fanned-out index changes) and later vacuum every event after it. The relay fans out the events
  // other writers leave to it. The ids of the rows it may write are made in Java (see flush).
  private static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[],
                             $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                             $13::text[], $14::int8[], $15::text[], $16::text[], $17::text[], $18::text[],
                             $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[],
                             $25::text[], $26::text[], $27::text[])
          AS t(id, surface_id, external_id, event_type, gross_minor, currency, occurred_at,
               click_id, promo_code, refund_of, metadata, status, affiliate_id,
               commission_minor, commission_currency, fraud_reason, approval, customer_id,
               link_code, click_ip, click_subs, occurred_text,
               created_event_id, commission_id, commission_event_id, fraud_event_id, rejected_event_id)
      ), inserted AS (
        INSERT INTO conversions (id, surface_id, external_id, event_type, gross_minor, currency, occurred_at,
                                 click_id, promo_code, refund_of, metadata, status, affiliate_id,
                                 commission_minor, commission_currency, fraud_reason, approval, customer_id,
                                 link_code, click_ip, click_subs)
        SELECT i.id, i.surface_id, i.external_id, i.event_type, i.gross_minor, i.currency, i.occurred_at,
               i.click_id, i.promo_code, i.refund_of, i.metadata::jsonb, i.status, i.affiliate_id,
               i.commission_minor, i.commission_currency, i.fraud_reason, i.approval, i.customer_id,
               -- What affiliate postbacks render of the click credited (Attribution.ClickCopy), from the
               -- attributor, which read the click: joining the partitioned clicks table here would lock
               -- and open every one of its day partitions in each execution of this generic plan.
               i.link_code, i.click_ip, i.click_subs::jsonb
          FROM input i
        ON CONFLICT (surface_id, external_id) DO NOTHING
        RETURNING *
      ), conversion_created AS (
        INSERT INTO events (id, type, surface_id, affiliate_id, fanned_out, data)
        SELECT n.created_event_id, 'conversion.created', i.surface_id, i.affiliate_id, true,
               jsonb_build_object('conversionId', i.id, 'surfaceId', i.surface_id, 'externalId', i.external_id,
                                  'eventType', i.event_type, 'grossMinor', i.gross_minor, 'currency', i.currency,
                                  -- Instant#toString, the form of the events Java writes.
                                  'occurredAt', n.occurred_text,
                                  'clickId', i.click_id, 'promoCode', i.promo_code,
                                  'refundOf', i.refund_of, 'status', i.status, 'affiliateId', i.affiliate_id,
                                  'commissionMinor', i.commission_minor, 'commissionCurrency', i.commission_currency,
                                  'approval', i.approval, 'customerId', i.customer_id, 'metadata', i.metadata)
          FROM inserted i JOIN input n ON n.id = i.id
        RETURNING id, type, surface_id, affiliate_id, created_at, data->>'status' AS conversion_status
      ), commission_entries AS (
        -- The ledger entry of every commission earned (pending or approved), in the conversion's own
        -- commit. A conversion that arrives rejected earns nothing.
        INSERT INTO commissions (id, kind, conversion_id, surface_id, affiliate_id, amount_minor, currency)
        SELECT n.commission_id, 'commission', i.id, i.surface_id, i.affiliate_id,
               i.commission_minor, i.commission_currency
          FROM inserted i JOIN input n ON n.id = i.id
         WHERE i.affiliate_id IS NOT NULL AND i.commission_minor > 0 AND i.commission_currency IS NOT NULL
           AND i.approval <> 'rejected'
        RETURNING *
      ), commission_created AS (
        INSERT INTO events (id, type, surface_id, affiliate_id, fanned_out, data)
        SELECT n.commission_event_id, 'commission.created', c.surface_id, c.affiliate_id, true,
               jsonb_build_object('commissionId', c.id, 'conversionId', c.conversion_id, 'surfaceId', c.surface_id,
                                  'affiliateId', c.affiliate_id, 'amountMinor', c.amount_minor, 'currency', c.currency)
          FROM commission_entries c JOIN input n ON n.id = c.conversion_id
        RETURNING id, type, surface_id, affiliate_id, created_at, data->>'status' AS conversion_status
      ), fraud_detected AS (
        INSERT INTO events (id, type, surface_id, affiliate_id, fanned_out, data)
        SELECT n.fraud_event_id, 'fraud.detected', i.surface_id, i.affiliate_id, true,
               jsonb_build_object('conversionId', i.id, 'surfaceId', i.surface_id, 'externalId', i.external_id,
                                  'clickId', i.click_id, 'affiliateId', i.affiliate_id, 'reason', i.fraud_reason)
          FROM inserted i JOIN input n ON n.id = i.id
         WHERE i.fraud_reason IS NOT NULL
        RETURNING id, type, surface_id, affiliate_id, created_at, data->>'status' AS conversion_status
      ), conversion_rejected AS (
        INSERT INTO events (id, type, surface_id, affiliate_id, fanned_out, data)
        SELECT n.rejected_event_id, 'conversion.rejected', i.surface_id, i.affiliate_id, true,
               jsonb_build_object('conversionId', i.id, 'surfaceId', i.surface_id, 'externalId', i.external_id,
                                  'affiliateId', i.affiliate_id, 'previousApproval', NULL,
                                  'commissionReversedMinor', 0)
          FROM inserted i JOIN input n ON n.id = i.id
         WHERE i.approval = 'rejected'
        RETURNING id, type, surface_id, affiliate_id, created_at, data->>'status' AS conversion_status
      ), new_events AS (
        SELECT * FROM conversion_created UNION ALL SELECT * FROM commission_created
        UNION ALL SELECT * FROM fraud_detected UNION ALL SELECT * FROM conversion_rejected
      ), deliveries_created AS (
        %s
      )
      -- Refunds that arrived before this original are applied right after this commit (RefundWriter).
      SELECT i.id, EXISTS (SELECT 1 FROM conversions r
                            WHERE r.surface_id = i.surface_id AND r.refund_of = i.external_id
                              AND r.status = 'refund_pending_original') AS refunds_pending,
             NULL::text AS delivery_id, NULL::timestamptz AS next_attempt_at
        FROM inserted i
      UNION ALL
      SELECT NULL, NULL, id, next_attempt_at FROM deliveries_created WHERE status = 'pending'
      """.formatted(DeliveryStore.deliveriesFor("new_events"));
  private static final String ORIGINALS = """
      SELECT c.surface_id, c.external_id, c.id, c.status, c.affiliate_id, c.commission_minor, c.commission_currency,
             c.approval
        FROM conversions c
        JOIN unnest($1::text[], $2::text[]) AS k(surface_id, external_id) USING (surface_id, external_id)
      """;

  /** A conversion ready to be written: its generated id, the request and its attribution. */
  public record NewConversion(String id, ConversionRequest request, Attribution attribution) {
    ConversionOutcome outcome() {
      return new ConversionOutcome(attribution.status(), id, attribution.affiliateId(),
          attribution.commissionMinor(), attribution.currency(), request.approvalOrDefault());
    }
  }

  /**
   * The result for one conversion: written now, or refused as a duplicate with the original outcome.
   * {@code refundsPending}: refunds of this conversion arrived before it and wait to be applied.
   */
  public record WriteResult(boolean inserted, ConversionOutcome outcome, boolean refundsPending) {
    public WriteResult(boolean inserted, ConversionOutcome outcome) {
      this(inserted, outcome, false);
    }
  }

  private record Pending(NewConversion conversion, Promise<WriteResult> promise) {
  }

  private final Pool pool;
  private final DeliveryQueue deliveries;
  private final MicroBatcher<Pending> batcher;

  /**
   * {@code maxQueued}: conversions allowed to wait for a batch; more are answered 503 at once.
   * {@code deliveries}: where the deliveries of the events written are scheduled after their commit.
   * {@code regroup}: how long a committed batch waits at most for the senders it answered (MicroBatcher#regroup,
   * {@code GATEWAY_CONVERSION_REGROUP}): fewer, larger commits; zero for none.
   */
  public ConversionWriter(Pool pool, DeliveryQueue deliveries, Context context, int maxInFlight, int maxQueued,
                          Duration regroup, GatewayMetrics metrics) {
    this.pool = pool;
    this.deliveries = deliveries;
    this.batcher = new MicroBatcher<>(context, "conversions", MAX_BATCH, maxInFlight, maxQueued, regroup,
        metrics.writeBatchRows("conversions"), new MicroBatcher.Writer<>() {
          @Override
          public Future<?> write(List<Pending> batch) {
            return flush(batch);
          }

          @Override
          public void fail(Pending item, Throwable error) {
            item.promise().tryFail(error);
          }

          @Override
          public ApiError diagnose(Pending item) {
            return ConversionWriter.diagnose(item.conversion().request());
          }
        });
  }

  /** sub1..sub5 of a credited click as click_subs holds them: the present ones only ({} when none is). */
  private static String subsJson(String[] subIds) {
    JsonObject subs = new JsonObject();
    for (int s = 0; subIds != null && s < subIds.length; s++) {
      if (subIds[s] != null) {
        subs.put("sub" + (s + 1), subIds[s]);
      }
    }
    return subs.encode();
  }

  public Future<WriteResult> write(NewConversion conversion) {
    Promise<WriteResult> promise = Promise.promise();
    batcher.add(new Pending(conversion, promise));
    return promise.future();
  }

  /**
   * Writes the batch; the future fails only when the INSERT statement failed (nothing committed). Reading
   * back the originals of refused rows follows within the same flush, but its failure fails those rows only.
   */
  private Future<Void> flush(List<Pending> batch) {
    int n = batch.size();
    String[] ids = new String[n];
    String[] surfaces = new String[n];
    String[] externals = new String[n];
    String[] types = new String[n];
    Long[] gross = new Long[n];
    String[] currencies = new String[n];
    OffsetDateTime[] occurred = new OffsetDateTime[n];
    String[] clicks = new String[n];
    String[] promos = new String[n];
    String[] refundOf = new String[n];
    String[] metadata = new String[n];
    String[] statuses = new String[n];
    String[] affiliates = new String[n];
    Long[] commissions = new Long[n];
    String[] commissionCurrencies = new String[n];
    String[] fraud = new String[n];
    String[] approvals = new String[n];
    String[] customers = new String[n];
    String[] linkCodes = new String[n];
    String[] clickIps = new String[n];
    String[] clickSubs = new String[n];
    String[] occurredTexts = new String[n];
    // Every id the statement may need, made here: Postgres' time_ordered_id() is plpgsql and costs more
    // than the rest of an event's row. An id is made only where its row may be written (the statement's own
    // WHERE decides; these conditions are no narrower), so most rows send four nulls instead of four ids.
    String[] createdEvents = new String[n];
    String[] commissionIds = new String[n];
    String[] commissionEvents = new String[n];
    String[] fraudEvents = new String[n];
    String[] rejectedEvents = new String[n];
    for (int i = 0; i < n; i++) {
      NewConversion c = batch.get(i).conversion();
      ConversionRequest r = c.request();
      ids[i] = c.id();
      surfaces[i] = r.surfaceId();
      externals[i] = r.externalId();
      types[i] = r.eventType();
      gross[i] = r.grossMinor();
      currencies[i] = r.currency();
      occurred[i] = OffsetDateTime.ofInstant(r.occurredAt(), ZoneOffset.UTC);
      clicks[i] = r.clickId();
      promos[i] = r.promoCode();
      refundOf[i] = r.refundOf();
      metadata[i] = r.metadata();
      statuses[i] = c.attribution().status().wire();
      affiliates[i] = c.attribution().affiliateId();
      commissions[i] = c.attribution().commissionMinor();
      commissionCurrencies[i] = c.attribution().currency();
      fraud[i] = c.attribution().fraudReason();
      approvals[i] = r.approvalOrDefault().wire();
      customers[i] = r.customerId();
      occurredTexts[i] = r.occurredAt().toString();
      createdEvents[i] = Ids.timeOrdered("evt");
      if (c.attribution().affiliateId() != null && c.attribution().commissionMinor() > 0) {
        commissionIds[i] = Ids.timeOrdered("com");
        commissionEvents[i] = Ids.timeOrdered("evt");
      }
      if (c.attribution().fraudReason() != null) {
        fraudEvents[i] = Ids.timeOrdered("evt");
      }
      if (r.approvalOrDefault() == Approval.REJECTED) {
        rejectedEvents[i] = Ids.timeOrdered("evt");
      }
      ClickCopy click = c.attribution().click();
      if (click != null) {
        linkCodes[i] = click.linkCode();
        clickIps[i] = click.ip();
        clickSubs[i] = subsJson(click.subIds());
      }
    }
    Tuple args = Tuple.from(List.of(ids, surfaces, externals, types, gross, currencies, occurred, clicks, promos,
        refundOf, metadata, statuses, affiliates, commissions, commissionCurrencies, fraud, approvals, customers,
        linkCodes, clickIps, clickSubs, occurredTexts, createdEvents, commissionIds, commissionEvents, fraudEvents,
        rejectedEvents));
    return pool.preparedQuery(INSERT).execute(args)
        .compose(rows -> {
          Map<String, Boolean> inserted = new HashMap<>(rows.size() * 2);
          List<DeliveryQueue.Entry> scheduled = new ArrayList<>();
          for (Row row : rows) {
            String id = row.getString(0);
            if (id != null) {
              inserted.put(id, row.getBoolean(1));
            } else {
              scheduled.add(new DeliveryQueue.Entry(row.getString(2), row.getOffsetDateTime(3).toInstant().toEpochMilli()));
            }
          }
          schedule(scheduled);
          List<Pending> refused = new ArrayList<>(n - inserted.size());
          for (Pending p : batch) {
            Boolean refundsPending = inserted.get(p.conversion().id());
            if (refundsPending != null) {
              p.promise().complete(new WriteResult(true, p.conversion().outcome(), refundsPending));
            } else {
              refused.add(p);
            }
          }
          if (refused.isEmpty()) {
            return Future.<Void>succeededFuture();
          }
          return resolveOriginals(refused).recover(e -> {
            refused.forEach(p -> p.promise().tryFail(e));
            return Future.succeededFuture();
          });
        });
  }

  /**
   * Puts the committed deliveries on the Redis schedule without holding up the answers: they are in Postgres,
   * and the schedule reconciler adds any that this misses (a Redis error, a crash right after the commit).
   */
  private void schedule(List<DeliveryQueue.Entry> scheduled) {
    if (!scheduled.isEmpty()) {
      deliveries.schedule(scheduled).onFailure(e -> LOG.warn(
          "scheduling {} new deliveries in Redis failed; the reconciler will: {}", scheduled.size(), e.toString()));
    }
  }

  private Future<Void> resolveOriginals(List<Pending> refused) {
    String[] surfaces = new String[refused.size()];
    String[] externals = new String[refused.size()];
    for (int i = 0; i < refused.size(); i++) {
      surfaces[i] = refused.get(i).conversion().request().surfaceId();
      externals[i] = refused.get(i).conversion().request().externalId();
    }
    return pool.preparedQuery(ORIGINALS).execute(Tuple.tuple().addValue(surfaces).addValue(externals)).map(rows -> {
      Map<String, ConversionOutcome> originals = new HashMap<>();
      for (Row row : rows) {
        originals.put(row.getString("surface_id") + '\n' + row.getString("external_id"), new ConversionOutcome(
            ConversionStatus.of(row.getString("status")), row.getString("id"), row.getString("affiliate_id"),
            row.getLong("commission_minor"), row.getString("commission_currency"),
            Approval.parse(row.getString("approval"))));
      }
      for (Pending p : refused) {
        ConversionRequest r = p.conversion().request();
        ConversionOutcome original = originals.get(r.surfaceId() + '\n' + r.externalId());
        if (original != null) {
          p.promise().complete(new WriteResult(false, original));
        } else {
          p.promise().fail(new IllegalStateException("conversion refused by the unique constraint but not found"));
        }
      }
      return null;
    });
  }

  /**
   * The field of a conversion that Postgres cannot store, as a 400 naming it; null when every field looks
   * storable. Text must be storable ({@link StorableText}); metadata is stored as jsonb, which decodes its
   * escapes ({@code "\\ud800"} is an unpaired surrogate there) and holds numbers as numeric.
   */
  static ApiError diagnose(ConversionRequest r) {
    String[][] texts = {{"externalId", r.externalId()}, {"eventType", r.eventType()}, {"currency", r.currency()},
        {"clickId", r.clickId()}, {"promoCode", r.promoCode()}, {"refundOf", r.refundOf()},
        {"customerId", r.customerId()}};
    for (String[] field : texts) {
      String problem = StorableText.problem(field[1]);
      if (problem != null) {
        return ApiError.invalidField(field[0], field[0] + " " + problem);
      }
    }
    String problem = metadataProblem(r.metadata());
    return problem == null ? null : ApiError.invalidField("metadata", "metadata " + problem);
  }

  private static String metadataProblem(String metadata) {
    if (metadata == null) {
      return null;
    }
    try (JsonParser p = JSON.createParser(metadata)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        String problem = switch (t) {
          case FIELD_NAME, VALUE_STRING -> StorableText.problem(p.getText());
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> numericProblem(p.getText());
          default -> null;
        };
        if (problem != null) {
          return (t == JsonToken.FIELD_NAME ? "has a key that " : "has a value that ") + problem;
        }
      }
      return null;
    } catch (IOException e) {
      return "is not valid JSON";
    }
  }

  private static String numericProblem(String number) {
    BigDecimal value = new BigDecimal(number);
    if (value.precision() - value.scale() > NUMERIC_MAX_INTEGER_DIGITS || value.scale() > NUMERIC_MAX_SCALE) {
      return "is a number out of the range Postgres can store";
    }
    return null;
  }
}
