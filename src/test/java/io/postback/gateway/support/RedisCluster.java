package io.postback.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster on loopback: three masters and three replicas from the machine's
 * {@code redis-server} (Debian's redis-server package), joined with {@code redis-cli --cluster create}.
 * Data lives under {@code target/}.
 */
public final class RedisCluster implements AutoCloseable {
  private static final int NODES = 6;
  private final Path dir;
  private final List<Integer> ports = new ArrayList<>();
  private final List<Process> servers = new ArrayList<>();

  private RedisCluster(Path dir) {
    this.dir = dir;
  }

  /** Whether redis-server and redis-cli are on the PATH (.ci/run installs them). */
  public static boolean available() {
    return onPath("redis-server") && onPath("redis-cli");
  }

  public static RedisCluster start() {
    try {
      RedisCluster c = new RedisCluster(Files.createDirectories(Path.of("target", "redis-cluster-" + System.nanoTime())
          .toAbsolutePath()));
      for (int i = 0; i < NODES; i++) {
        int port = RunningGateway.freePort();
        c.ports.add(port);
        c.servers.add(new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
            "--cluster-node-timeout", "2000", "--dir", c.dir.toString(), "--save", "", "--appendonly", "no")
            .redirectErrorStream(true).redirectOutput(c.dir.resolve("redis-" + port + ".log").toFile()).start());
      }
      for (int port : c.ports) {
        Await.until("redis " + port + " answers", Duration.ofSeconds(10), () -> c.cli(port, "PING").contains("PONG"));
      }
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      c.ports.forEach(p -> create.add("127.0.0.1:" + p));
      create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
      run(c.dir, create);
      c.awaitHealthy();
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code redis-cluster://} naming two of the nodes: the client finds the rest. */
  public String url() {
    return "redis-cluster://127.0.0.1:" + ports.get(0) + ",127.0.0.1:" + ports.get(1);
  }

  /** Every node agrees the cluster is ok, with three masters each having its replica. */
  public void awaitHealthy() {
    Await.until("the cluster is ok on every node", Duration.ofSeconds(30), () -> ports.stream().allMatch(p -> {
      String info = cli(p, "CLUSTER", "INFO");
      return info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384");
    }) && replicas().size() == 3);
  }

  /** The ports of the nodes that are replicas now. */
  public List<Integer> replicas() {
    return ports.stream().filter(p -> cli(p, "ROLE").startsWith("slave")).toList();
  }

  /**
   * A replica takes over its master's slots (a manual failover, as an operator does before maintenance).
   * A manual failover gives up silently when the master cannot pause its clients in time (a loaded
   * machine): then the replica is promoted without the master's agreement ({@code FORCE}).
   */
  public void failOver(int replicaPort) {
    for (String[] command : List.of(new String[] {"CLUSTER", "FAILOVER"}, new String[] {"CLUSTER", "FAILOVER", "FORCE"})) {
      String answer = cli(replicaPort, command);
      if (!answer.contains("OK")) {
        throw new IllegalStateException(String.join(" ", command) + " on " + replicaPort + ": " + answer);
      }
      try {
        Await.until(replicaPort + " is a master", Duration.ofSeconds(15), () -> cli(replicaPort, "ROLE").startsWith("master"));
        return;
      } catch (AssertionError notYet) {
        // try again, forced
      }
    }
    throw new IllegalStateException(replicaPort + " did not become a master");
  }

  /** A command on the cluster, following redirections ({@code redis-cli -c}); the reply as text. */
  public String command(String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-c", "-p", String.valueOf(ports.get(0))));
    command.addAll(List.of(args));
    return run(dir, command).trim();
  }

  private String cli(int port, String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-p", String.valueOf(port)));
    command.addAll(List.of(args));
    try {
      return run(dir, command);
    } catch (IllegalStateException e) {
      return "";
    }
  }

  @Override
  public void close() {
    for (Process p : servers) {
      p.destroy();
    }
    for (Process p : servers) {
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String run(Path dir, List<String> command) {
    try {
      Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean onPath(String binary) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, binary))) {
        return true;
      }
    }
    return false;
  }
}
