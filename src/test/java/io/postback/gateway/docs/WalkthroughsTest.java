package io.postback.gateway.docs;

import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.NodeTools;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's and the docs' walk-throughs, pasted into a shell as a reader would: every fenced
 * {@code bash} block of a document, in order, in one bash session (so a block may use what an earlier
 * one set), against a started gateway with the banner's demo surface and admin token. A block that
 * starts the server or runs the test suite is preceded by {@code <!-- not-run: why -->} and skipped.
 * The session runs with {@code set -euo pipefail}: a command that fails, or a variable used before a
 * block sets it, fails the test; so does a curl that gets no answer, or an answer that is a server error.
 */
class WalkthroughsTest {
  private static final Pattern BLOCK = Pattern.compile("(<!--\\s*not-run:[^>]*-->\\s*)?```bash\\n(.*?)```", Pattern.DOTALL);

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  /** Each document with an answer its walk-through must reach, so a session that ran nothing cannot pass. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "README.md           | \"status\":\"attributed\"",
      "docs/attribution.md | \"status\":\"refunded\"",
      "docs/webhooks.md    | signature verified",
      "docs/affiliate-postbacks.md | sig verified"})
  void everyPastableBlockRunsAgainstAStartedGateway(String document, String reached, @TempDir Path workdir)
      throws IOException {
    for (String tool : List.of("curl", "openssl", "jq", "node", "xxd")) {
      NodeTools.requireTool(NodeTools.run(workdir, 10, "sh", "-c", "command -v " + tool).exitCode() == 0, tool);
    }
    // The zero-configuration layout the docs read from: ./data/admin-token beside the jar.
    Files.createDirectories(workdir.resolve("data"));
    Files.writeString(workdir.resolve("data/admin-token"), TestBackends.ADMIN_TOKEN);
    String secret = demoSecret();

    StringBuilder script = new StringBuilder("""
        set -euo pipefail
        trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
        # Every request has a deadline; a refused connection (exit 7) or a timeout ends the session.
        curl() { command curl --max-time 30 "$@"; }
        """);
    Matcher m = BLOCK.matcher(Files.readString(Path.of(document), StandardCharsets.UTF_8));
    int blocks = 0;
    while (m.find()) {
      if (m.group(1) != null) {
        continue;
      }
      blocks++;
      script.append("\n# --- block ").append(blocks).append(" of ").append(document).append('\n')
          .append(m.group(2)
              .replace("localhost:8080", "localhost:" + gateway.port())
              .replace("'pbs_...'", "'" + secret + "'"));
    }
    assertThat(blocks).as("bash blocks to run in %s", document).isPositive();
    Path file = workdir.resolve("walkthrough.sh");
    Files.writeString(file, script);
    NodeTools.Result r = NodeTools.run(workdir, 240, "bash", file.toString());
    // What the reader would have seen, for whoever debugs a failure.
    Path transcript = Path.of("target", "walkthroughs", document.replace('/', '_') + ".log");
    Files.createDirectories(transcript.getParent());
    Files.writeString(transcript, r.output());
    assertThat(r.exitCode()).as("%s failed:%n%s%n--- script ---%n%s", document, r.output(), script).isZero();
    assertThat(r.output()).as("%s answered a server error:%n%s", document, r.output())
        .doesNotContain("\"internal_error\"", "\"dependency_unavailable\"", "\"deadline_exceeded\"")
        .contains(reached);
  }

  /** The demo surface the banner prints, and its secret (rotated now if an earlier test made the surface). */
  private static String demoSecret() {
    Reply created = gateway.client().admin("POST", "/admin/surfaces", new JsonObject().put("id", "demo").put("name", "Demo surface"));
    if (created.status() == 201) {
      return created.json().getString("secret");
    }
    Reply rotated = gateway.client().admin("POST", "/admin/surfaces/demo/secrets", new JsonObject().put("graceSeconds", 0));
    assertThat(rotated.status()).as(rotated.body()).isEqualTo(201);
    return rotated.json().getString("secret");
  }
}
