package io.postback.gateway.support;

import io.postback.gateway.config.Backends;
import io.postback.gateway.embedded.EmbeddedPostgresServer;
import io.postback.gateway.embedded.EmbeddedRedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Real Postgres and Redis servers for the whole test JVM, started once (embedded binaries, on free
 * ports, nothing shared with the machine's own servers). Tests that stop one must start it again.
 */
public final class TestBackends {
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789";
  private static EmbeddedPostgresServer postgres;
  private static EmbeddedRedisServer redis;

  private TestBackends() {
  }

  public static synchronized Backends get() {
    if (postgres == null) {
      try {
        Path dir = Files.createTempDirectory("gateway-test-pg");
        postgres = new EmbeddedPostgresServer(dir).start();
        redis = new EmbeddedRedisServer(null).start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        redis.stop();
        postgres.stop();
      }));
    }
    return new Backends(postgres.url(), redis.url(), ADMIN_TOKEN);
  }

  public static EmbeddedPostgresServer postgres() {
    get();
    return postgres;
  }

  public static EmbeddedRedisServer redis() {
    get();
    return redis;
  }

  public static Connection jdbc() throws SQLException {
    get();
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/postgres", "postgres", "");
  }

  /** A single number from SQL, e.g. a count. */
  public static long queryLong(String sql, Object... args) {
    try (Connection c = jdbc(); var st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A single text value from SQL, or null when there is no row (or it is null). */
  public static String queryText(String sql, Object... args) {
    try (Connection c = jdbc(); var st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = st.execute() ? st.getResultSet() : null) {
        return rs != null && rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void execute(String sql) {
    try (Connection c = jdbc(); Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends one Redis command over a plain socket (RESP), e.g. FLUSHALL or GET, and returns the raw reply line(s). */
  public static String redis(String... args) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", redis().port())) {
      StringBuilder cmd = new StringBuilder("*" + args.length + "\r\n");
      for (String a : args) {
        cmd.append('$').append(a.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
      }
      socket.getOutputStream().write(cmd.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      String first = in.readLine();
      if (first.startsWith("$") && !first.equals("$-1")) {
        return in.readLine();
      }
      return first;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
