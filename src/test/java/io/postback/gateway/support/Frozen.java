package io.postback.gateway.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A server frozen with SIGSTOP (its processes keep their sockets, the kernel still accepts connections,
 * nothing answers) until {@link #close} sends SIGCONT. Only for the private servers a test started
 * itself, addressed by their process ids.
 */
public final class Frozen implements AutoCloseable {
  private final List<Long> pids;
  private boolean thawed;

  private Frozen(List<Long> pids) {
    this.pids = pids;
    signal("-STOP");
  }

  /** Freezes a Postgres server on 127.0.0.1:{@code port}: the postmaster and every process under it. */
  public static Frozen postgres(int port) {
    ProcessHandle postmaster;
    // The backend serving this connection is a child of the postmaster (asked while it still runs).
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "");
         ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      long backend = rs.getLong(1);
      postmaster = ProcessHandle.of(backend).flatMap(ProcessHandle::parent)
          .orElseThrow(() -> new IllegalStateException("no postmaster above backend " + backend));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    List<Long> pids = new ArrayList<>();
    pids.add(postmaster.pid());
    postmaster.descendants().forEach(p -> pids.add(p.pid()));
    return new Frozen(pids);
  }

  /** Freezes a Redis server on 127.0.0.1:{@code port} (its pid from INFO server). */
  public static Frozen redis(int port) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.getOutputStream().write("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n".getBytes(StandardCharsets.US_ASCII));
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.startsWith("process_id:")) {
          return new Frozen(List.of(Long.parseLong(line.substring("process_id:".length()).trim())));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("Redis on port " + port + " did not tell its process id");
  }

  /** Signals every process; the first (the server itself) must get it, the others may have exited meanwhile. */
  private void signal(String signal) {
    try {
      for (int i = 0; i < pids.size(); i++) {
        Process kill = new ProcessBuilder("kill", signal, String.valueOf(pids.get(i)))
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (kill.waitFor() != 0 && i == 0) {
          throw new IllegalStateException("kill " + signal + " " + pids.get(0) + " failed");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Thaws the server (SIGCONT); safe to call twice. */
  @Override
  public void close() {
    if (!thawed) {
      thawed = true;
      signal("-CONT");
    }
  }
}
