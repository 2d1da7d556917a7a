package io.postback.gateway.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Node-based tools of the tests (standardwebhooks, stripe, razorpay, playwright-core, redocly, ...),
 * all declared in the one {@code tools/node/package.json} with its lockfile. {@link #require()} installs
 * them once per checkout with {@code npm ci}. Without node a test skips with a message, except on CI
 * ({@code CI} set), where a missing tool is a failure: CI must run every test.
 */
public final class NodeTools {
  public static final Path DIR = Path.of("tools", "node").toAbsolutePath();
  private static Boolean installed;

  private NodeTools() {
  }

  /** True when running on CI, where nothing may be skipped for want of a tool. */
  public static boolean onCi() {
    String ci = System.getenv("CI");
    return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false");
  }

  /** Skips the calling test (or fails on CI) when {@code what} is not available. */
  public static void requireTool(boolean available, String what) {
    if (!available && onCi()) {
      throw new AssertionError(what + " is required on CI (CI is set) but is not available");
    }
    assumeTrue(available, what + " is not available: skipping (it runs on CI)");
  }

  /** Node and the packages of tools/node, installed (npm ci) on first use. */
  public static synchronized Path require() {
    if (installed == null) {
      boolean node = run(DIR, 10, "node", "--version").exitCode() == 0;
      requireTool(node, "node");
      Path marker = DIR.resolve("node_modules/.package-lock.json");
      try {
        boolean fresh = Files.exists(marker)
            && Files.getLastModifiedTime(marker).compareTo(Files.getLastModifiedTime(DIR.resolve("package-lock.json"))) >= 0;
        if (!fresh) {
          Result r = run(DIR, 600, "npm", "ci", "--no-audit", "--no-fund");
          if (r.exitCode() != 0) {
            throw new AssertionError("npm ci in " + DIR + " failed (exit " + r.exitCode() + "): " + r.output());
          }
        }
      } catch (IOException e) {
        throw new AssertionError("cannot inspect " + DIR, e);
      }
      installed = true;
    }
    return DIR;
  }

  /** What a command printed (stdout and stderr together) and its exit code; -1 when it could not run or timed out. */
  public record Result(int exitCode, String output) {
  }

  /** Runs {@code node <script> args...}; the script's require() finds the packages of tools/node (NODE_PATH). */
  public static Result node(int timeoutSeconds, Path script, String... args) {
    require();
    List<String> command = new ArrayList<>(List.of("node", script.toAbsolutePath().toString()));
    command.addAll(List.of(args));
    return run(DIR, timeoutSeconds, command.toArray(new String[0]));
  }

  public static Result run(Path dir, int timeoutSeconds, String... command) {
    try {
      Path out = Files.createTempFile("node-tools", ".out");
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile());
      builder.environment().put("NODE_PATH", DIR.resolve("node_modules").toString());
      Process p = builder.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
      }
      String output = Files.readString(out, StandardCharsets.UTF_8);
      Files.deleteIfExists(out);
      return new Result(p.exitValue(), output);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
