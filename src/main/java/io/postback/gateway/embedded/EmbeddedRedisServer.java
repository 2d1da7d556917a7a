package io.postback.gateway.embedded;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real Redis server from the binaries embedded-redis ships through Maven. With a data directory it
 * keeps an append-only file there, so a restart of the default setup keeps the retry schedule and
 * dedupe keys; without one it keeps nothing on disk (like the machine's Redis, and like tests want).
 */
public final class EmbeddedRedisServer implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private RedisServer server;

  public EmbeddedRedisServer(Path dataDir) {
    this(dataDir, FreePort.find());
  }

  public EmbeddedRedisServer(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  public synchronized EmbeddedRedisServer start() {
    if (server != null) {
      return this;
    }
    try {
      var builder = RedisServer.newRedisServer().port(port).bind("127.0.0.1");
      if (dataDir != null) {
        Files.createDirectories(dataDir);
        builder.setting("dir " + dataDir.toAbsolutePath())
            .setting("appendonly yes")
            .setting("appendfsync everysec");
      } else {
        builder.setting("save \"\"").setting("appendonly no");
      }
      server = builder.build();
      server.start();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded Redis on port " + port, e);
    }
  }

  public synchronized void stop() {
    if (server == null) {
      return;
    }
    try {
      server.stop();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      server = null;
    }
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    stop();
  }
}
