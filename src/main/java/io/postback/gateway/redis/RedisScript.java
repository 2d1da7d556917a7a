package io.postback.gateway.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Lua script run by its SHA1 ({@code EVALSHA}), so the hot path sends 40 bytes instead of the script;
 * when Redis does not know it yet (first call, restart, failover to a replica that never saw it) the
 * {@code NOSCRIPT} answer is followed by one {@code EVAL}, which also loads it for the next calls.
 * Every key a script touches is passed in {@code KEYS} and shares one hash tag, so it runs on a cluster.
 *
 * <p>Every script is loaded ({@code SCRIPT LOAD}) on each new connection by {@link RedisChannel}, because
 * a pipelined write fails as a whole when one of its commands does (the Vert.x client's batch): a
 * {@code NOSCRIPT} would also fail the scripts that did run beside it, and they would run twice. When
 * it still happens (Redis restarted under a live connection, {@code SCRIPT FLUSH}) every script here
 * tolerates a second run: a rate limit charges twice (admits less, never more), a dedupe claim finds
 * its own marker (Postgres decides), a delivery claim's lost ids return to the schedule when their
 * lease expires, and finishing or restoring deliveries is idempotent.
 */
public final class RedisScript {
  // Scripts are constants of the classes that run them, all created before a verticle first connects.
  private static final List<RedisScript> ALL = new CopyOnWriteArrayList<>();

  private final String source;
  private final String sha;

  public RedisScript(String source) {
    this.source = source;
    try {
      this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
    ALL.add(this);
  }

  /** {@code SCRIPT LOAD} of every script, sent on each new connection. */
  static List<Request> loadAll() {
    return ALL.stream().map(s -> Request.cmd(Command.SCRIPT).arg("LOAD").arg(s.source)).toList();
  }

  public String sha() {
    return sha;
  }

  /** Runs the script on {@code keys} (all in one hash slot) with {@code args} (strings or numbers). */
  public Future<Response> run(RedisChannel redis, String[] keys, Object... args) {
    return redis.send(request(Command.EVALSHA, sha, keys, args)).recover(e -> {
      String message = e.getMessage();
      return message != null && message.contains("NOSCRIPT")
          ? redis.send(request(Command.EVAL, source, keys, args))
          : Future.failedFuture(e);
    });
  }

  private static Request request(Command command, String script, String[] keys, Object[] args) {
    Request r = Request.cmd(command).arg(script).arg(keys.length);
    for (String k : keys) {
      r.arg(k);
    }
    for (Object a : args) {
      r.arg(String.valueOf(a));
    }
    return r;
  }
}
