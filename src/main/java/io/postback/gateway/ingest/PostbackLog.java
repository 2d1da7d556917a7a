package io.postback.gateway.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.postback.gateway.conversion.ConversionOutcome;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.metrics.GatewayMetrics;
import io.postback.gateway.redis.RedisChannel;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The recent inbound postbacks of a surface with their outcome or rejection reason: a debugger for
 * integrators ({@code GET /admin/postback-log}). A capped Redis list per surface (LPUSH + LTRIM,
 * pipelined, not awaited): bounded by construction, and best effort, a postback never waits for it.
 * Entries hold what the gateway decided and why, never a secret, signature or token.
 *
 * <p>A verticle writes its entries at most every {@link #WRITE_EVERY}: the first entry after a quiet spell
 * goes out at the end of its event-loop turn, later ones with the next write. A write holds at most the
 * newest {@link #CAPACITY} entries of each surface, as one LPUSH and one LTRIM: whatever is older would be
 * trimmed by that same write. Only above {@value #CAPACITY} postbacks of one surface per {@link #WRITE_EVERY}
 * does the log leave entries out, and those are entries that would have been trimmed from the list within
 * {@link #WRITE_EVERY} of being pushed: the log still shows the newest ones, and the gateway no longer encodes
 * and pushes thousands of entries a second that no one reads. Event loops write independently, so the list is
 * in the order of the writes; {@link #recent} orders it by when each entry was recorded. A surface's newest
 * entry is trimmed away only if another loop then pushes {@value #CAPACITY} older ones after it, that is, if
 * that loop answered that many postbacks of the surface within the {@link #WRITE_EVERY} before.
 */
public final class PostbackLog {
  public static final int CAPACITY = 200;
  static final Duration WRITE_EVERY = Duration.ofMillis(100);
  private static final String TRIM_TO = String.valueOf(CAPACITY - 1);

  private final RedisChannel redis;
  private final GatewayMetrics metrics;
  private final Context context;
  private final Map<String, ArrayDeque<Entry>> pending = new HashMap<>();
  private boolean writeScheduled;
  private long lastWriteNanos;

  /** Create it on the verticle's context; it is used from that event loop only. */
  public PostbackLog(RedisChannel redis, GatewayMetrics metrics) {
    this.redis = redis;
    this.metrics = metrics;
    this.context = Vertx.currentContext();
    this.lastWriteNanos = System.nanoTime() - WRITE_EVERY.toNanos();
  }

  static String key(String surfaceId) {
    return "pl:" + surfaceId;
  }

  /** Appends an entry, stamped now, for a surface that exists; it goes out with the verticle's next write. */
  void record(String surfaceId, Entry entry) {
    entry.at = System.currentTimeMillis();
    ArrayDeque<Entry> entries = pending.computeIfAbsent(surfaceId, id -> new ArrayDeque<>());
    if (entries.size() == CAPACITY) {
      entries.pollFirst();   // the write would trim it
    }
    entries.addLast(entry);
    if (!writeScheduled) {
      writeScheduled = true;
      long wait = TimeUnit.NANOSECONDS.toMillis(lastWriteNanos + WRITE_EVERY.toNanos() - System.nanoTime());
      if (wait <= 0) {
        context.runOnContext(v -> write());
      } else {
        context.owner().setTimer(wait, id -> write());
      }
    }
  }

  private void write() {
    writeScheduled = false;
    lastWriteNanos = System.nanoTime();
    pending.forEach((surfaceId, entries) -> {
      Request push = Request.cmd(Command.LPUSH).arg(key(surfaceId));
      for (Buffer entry : Entry.encode(entries)) {
        push.arg(entry);
      }
      redis.send(push).onFailure(e -> metrics.redisFallback("postback_log"));
      redis.send(Request.cmd(Command.LTRIM).arg(key(surfaceId)).arg("0").arg(TRIM_TO));
    });
    pending.clear();
  }

  /**
   * One postback as the log shows it: the request (form, externalId, eventType, client address), the
   * HTTP status, and either the outcome or the rejection, and when it was recorded. Written as a stream of
   * tokens when the entries go out.
   */
  static final class Entry {
    private static final JsonFactory JSON = new JsonFactory();
    // The fields of an answer body the log shows besides its externalId; "status" is shown as "outcome".
    private static final String[] ANSWER_FIELDS = {"status", "duplicate", "conversionId", "affiliateId",
        "commissionMinor", "approval", "accepted", "duplicates", "rejected", "reason"};

    private final String form;
    private final int httpStatus;
    private final String eventType;
    private final String providerEventId;
    private final String ip;
    private String externalId;
    private boolean afterDeadline;
    private ConversionPipeline.Answer conversion;   // the answer of one conversion, read when written
    private JsonObject answer;
    private ApiError error;
    long at;   // when it was recorded, milliseconds since the epoch

    Entry(String form, int httpStatus, String externalId, String eventType, String providerEventId, String ip) {
      this.form = form;
      this.httpStatus = httpStatus;
      this.externalId = externalId;
      this.eventType = eventType;
      this.providerEventId = providerEventId;
      this.ip = ip;
    }

    /** The postback was answered (or, after its deadline, would have been) with this answer. */
    Entry answered(ConversionPipeline.Answer a, boolean late) {
      afterDeadline = late;
      if (a.ofConversion()) {
        conversion = a;
      } else {
        answer = a.body();
        // An answer that names the externalId (a provider's event) names the one that took effect.
        if (answer.getValue("externalId") instanceof String named) {
          externalId = named;
        }
      }
      return this;
    }

    Entry rejected(ApiError rejection) {
      error = rejection;
      return this;
    }

    /**
     * The entries, oldest first, each its own JSON object: written by one generator into one array, of which
     * each entry is a slice. Entries of the same millisecond share the text of their stamp.
     */
    static List<Buffer> encode(Collection<Entry> entries) {
      ByteArrayBuilder out = new ByteArrayBuilder(256 * entries.size());
      int[] ends = new int[entries.size()];
      try (JsonGenerator g = JSON.createGenerator(out)) {
        g.setRootValueSeparator(null);
        long stampedAt = Long.MIN_VALUE;
        String stamp = null;
        int i = 0;
        for (Entry entry : entries) {
          if (entry.at != stampedAt) {
            stampedAt = entry.at;
            stamp = Instant.ofEpochMilli(stampedAt).toString();
          }
          entry.write(g, stamp);
          g.flush();
          ends[i++] = out.size();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);   // writing to memory does not fail
      }
      Buffer all = Buffer.buffer(out.toByteArray());
      List<Buffer> encoded = new ArrayList<>(ends.length);
      for (int i = 0, from = 0; i < ends.length; from = ends[i++]) {
        encoded.add(all.slice(from, ends[i]));
      }
      return encoded;
    }

    private void write(JsonGenerator g, String at) throws IOException {
      g.writeStartObject();
      g.writeStringField("form", form);
      g.writeNumberField("httpStatus", httpStatus);
      optional(g, "externalId", externalId);
      optional(g, "eventType", eventType);
      optional(g, "providerEventId", providerEventId);
      optional(g, "ip", ip);
      if (afterDeadline) {
        g.writeBooleanField("afterDeadline", true);
      }
      if (conversion != null) {
        ConversionOutcome outcome = readable(conversion);
        if (outcome != null) {
          g.writeStringField("outcome", outcome.status().wire());
        }
        g.writeBooleanField("duplicate", conversion.duplicate());
        if (outcome != null) {
          g.writeStringField("conversionId", outcome.conversionId());
          g.writeStringField("affiliateId", outcome.affiliateId());
          g.writeNumberField("commissionMinor", outcome.commissionMinor());
          g.writeStringField("approval", outcome.approval().wire());
        }
      } else if (answer != null) {
        for (String field : ANSWER_FIELDS) {
          if (answer.containsKey(field)) {
            g.writeFieldName(field.equals("status") ? "outcome" : field);
            value(g, answer.getValue(field));
          }
        }
      } else if (error != null) {
        g.writeStringField("outcome", "rejected");
        g.writeStringField("error", error.code());
        g.writeStringField("message", error.getMessage());
        optional(g, "field", error.field());
      }
      g.writeStringField("at", at);
      g.writeEndObject();
    }

    /** The answer's outcome; null for a remembered one that cannot be read (the entry then shows what it can). */
    private static ConversionOutcome readable(ConversionPipeline.Answer conversion) {
      try {
        return conversion.outcome();
      } catch (IllegalArgumentException e) {
        return null;
      }
    }

    private static void optional(JsonGenerator g, String name, String value) throws IOException {
      if (value != null) {
        g.writeStringField(name, value);
      }
    }

    /** An answer's values are text, numbers, booleans or null; anything else goes as its JSON encoding. */
    private static void value(JsonGenerator g, Object v) throws IOException {
      if (v == null) {
        g.writeNull();
      } else if (v instanceof String text) {
        g.writeString(text);
      } else if (v instanceof Boolean b) {
        g.writeBoolean(b);
      } else if (v instanceof Integer || v instanceof Long) {
        g.writeNumber(((Number) v).longValue());
      } else if (v instanceof Number n) {
        g.writeNumber(n.doubleValue());
      } else {
        g.writeRawValue(Json.encode(v));
      }
    }
  }

  /**
   * The newest {@code limit} entries, newest first by when they were recorded. The whole list is read and
   * ordered: each event loop writes its entries every {@link #WRITE_EVERY}, so one loop's write can push
   * entries older than those another loop pushed just before.
   */
  public Future<JsonArray> recent(String surfaceId, int limit) {
    return redis.send(Request.cmd(Command.LRANGE).arg(key(surfaceId)).arg("0").arg(TRIM_TO))
        .map(r -> {
          List<Recorded> entries = new ArrayList<>();
          if (r != null) {
            for (Response item : r) {
              JsonObject entry = new JsonObject(item.toString());
              entries.add(new Recorded(recordedAt(entry), entry));
            }
          }
          // A stable sort: entries of the same millisecond keep the order they were pushed in.
          entries.sort(Comparator.comparing(Recorded::at).reversed());
          JsonArray out = new JsonArray();
          entries.stream().limit(limit).forEach(e -> out.add(e.entry()));
          return out;
        });
  }

  /** An entry read back, with its stamp parsed once for the sort. */
  private record Recorded(Instant at, JsonObject entry) {
  }

  /** When an entry was recorded; the oldest possible instant for one that does not say. */
  private static Instant recordedAt(JsonObject entry) {
    try {
      return Instant.parse(entry.getString("at"));
    } catch (RuntimeException e) {
      return Instant.MIN;
    }
  }
}
