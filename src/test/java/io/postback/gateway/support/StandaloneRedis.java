package io.postback.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A private Redis from the machine's {@code redis-server} (Debian's, 7.x; .ci/run installs it) on a free
 * loopback port, nothing on disk: the Redis that production runs, beside the embedded 6.2 of the default.
 */
public final class StandaloneRedis implements AutoCloseable {
  private final int port;
  private final Process server;

  private StandaloneRedis(int port, Process server) {
    this.port = port;
    this.server = server;
  }

  public static StandaloneRedis start() {
    try {
      int port = RunningGateway.freePort();
      Path dir = Files.createDirectories(Path.of("target", "redis-" + port).toAbsolutePath());
      Process server = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
          "--save", "", "--appendonly", "no", "--dir", dir.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
      StandaloneRedis redis = new StandaloneRedis(port, server);
      Await.until("redis " + port + " answers", Duration.ofSeconds(10), () -> redis.command("PING").equals("PONG"));
      return redis;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** A command through redis-cli; the reply as text, trimmed ("" when it could not run). */
  public String command(String... args) {
    String[] command = new String[args.length + 3];
    command[0] = "redis-cli";
    command[1] = "-p";
    command[2] = String.valueOf(port);
    System.arraycopy(args, 0, command, 3, args.length);
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  @Override
  public void close() {
    server.destroy();
    try {
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
