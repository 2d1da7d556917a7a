package io.postback.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private Postgres primary and a streaming replica of it, on loopback and free ports, from the
 * machine's Postgres 15 binaries (Debian's postgresql-15): the primary made by {@code initdb}, the
 * replica by {@code pg_basebackup -R}. Postgres refuses to run as root, so when the tests do, the
 * servers run as the {@code postgres} user. Data lives under {@code target/}.
 */
public final class StreamingReplica implements AutoCloseable {
  public static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private final Path dir;
  private final int primaryPort;
  private final int replicaPort;

  private StreamingReplica(Path dir, int primaryPort, int replicaPort) {
    this.dir = dir;
    this.primaryPort = primaryPort;
    this.replicaPort = replicaPort;
  }

  public static StreamingReplica start() {
    try {
      Path dir = Files.createDirectories(Path.of("target", "pg-replica-" + System.nanoTime()).toAbsolutePath());
      if (root()) {
        UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(dir, users.lookupPrincipalByName("postgres"));
      }
      StreamingReplica r = new StreamingReplica(dir, RunningGateway.freePort(), RunningGateway.freePort());
      r.run(BIN.resolve("initdb").toString(), "-D", dir.resolve("primary").toString(), "-U", "postgres",
          "--auth=trust", "-E", "UTF8", "--no-sync");
      Files.writeString(dir.resolve("primary/postgresql.conf"), String.join("\n",
          "port = " + r.primaryPort,
          "listen_addresses = '127.0.0.1'",
          "unix_socket_directories = '" + dir + "'",
          "fsync = off",
          "wal_level = replica",
          "max_wal_senders = 4",
          ""), java.nio.file.StandardOpenOption.APPEND);
      r.pgCtl("primary", "start");
      r.run(BIN.resolve("pg_basebackup").toString(), "-h", "127.0.0.1", "-p", String.valueOf(r.primaryPort),
          "-U", "postgres", "-D", dir.resolve("replica").toString(), "-R", "-X", "stream", "--no-sync");
      // -R wrote primary_conninfo and standby.signal; the copied configuration still names the primary's port.
      Files.writeString(dir.resolve("replica/postgresql.auto.conf"), "port = " + r.replicaPort + "\n",
          java.nio.file.StandardOpenOption.APPEND);
      r.pgCtl("replica", "start");
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the binaries exist on this machine (.ci/run installs them). */
  public static boolean available() {
    return Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("pg_basebackup"));
  }

  public String primaryUrl() {
    return "postgresql://postgres@127.0.0.1:" + primaryPort + "/postgres";
  }

  public String replicaUrl() {
    return "postgresql://postgres@127.0.0.1:" + replicaPort + "/postgres";
  }

  /** Pauses WAL replay on the replica and waits until it is paused: from then on it shows an older state. */
  public void pauseReplay() {
    replicaSql("SELECT pg_wal_replay_pause()");
    Await.until("replay paused", java.time.Duration.ofSeconds(10),
        () -> "paused".equals(replicaSql("SELECT pg_get_wal_replay_pause_state()")));
  }

  public void resumeReplay() {
    replicaSql("SELECT pg_wal_replay_resume()");
  }

  /** Kills the replica (immediate shutdown, like a crash). */
  public void stopReplica() {
    pgCtl("replica", "stop", "-m", "immediate");
  }

  @Override
  public void close() {
    for (String server : new String[] {"replica", "primary"}) {
      if (Files.exists(dir.resolve(server + "/postmaster.pid"))) {
        pgCtl(server, "stop", "-m", "immediate");
      }
    }
  }

  /** Runs a statement on the primary. */
  public void executeOnPrimary(String sql) {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + primaryPort + "/postgres", "postgres", "");
         Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A single value read on the replica, as text. */
  public String queryReplica(String sql) {
    return replicaSql(sql);
  }

  private String replicaSql(String sql) {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + replicaPort + "/postgres", "postgres", "");
         Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private void pgCtl(String server, String action, String... options) {
    List<String> command = new ArrayList<>(List.of(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve(server).toString(),
        "-l", dir.resolve(server + ".log").toString(), "-w", "-t", "60", action));
    command.addAll(List.of(options));
    run(command.toArray(new String[0]));
  }

  private void run(String... command) {
    List<String> full = new ArrayList<>();
    if (root()) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(List.of(command));
    try {
      Path output = dir.resolve("commands.log");
      Process p = new ProcessBuilder(full).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile())).start();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", full) + " failed; see " + output + ":\n" + Files.readString(output));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }
}
