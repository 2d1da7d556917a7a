package io.postback.gateway.events;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/webhooks.md's event catalogue is what integrators read: it must say what Event defines. */
class EventCatalogueTest {
  private static final Pattern ENTRY = Pattern.compile("^### `([a-z.]+)`\\n(?:(?!^###).)*?^```json\\n(.*?)^```",
      Pattern.MULTILINE | Pattern.DOTALL);

  @Test
  void everyEventTypeIsDocumentedWithAnExampleOfExactlyItsFieldsInOrder() throws IOException {
    Map<String, JsonObject> documented = catalogue();

    assertThat(documented.keySet()).containsExactlyElementsOf(Event.CATALOGUE.keySet());
    Event.CATALOGUE.forEach((type, definition) -> assertThat(new ArrayList<>(documented.get(type).fieldNames()))
        .as(type).containsExactlyElementsOf(EventFields.of(definition)));
  }

  @Test
  void theDefinitionSerializesEveryFieldEvenWhenNull() {
    Event.EndpointDisabled event = new Event.EndpointDisabled("whe_x", null);

    assertThat(event.data().fieldNames()).containsExactly("endpointId", "reason");
    assertThat(event.data().getValue("reason")).isNull();
  }

  /** The examples of the catalogue section, by event type, in document order. */
  private static Map<String, JsonObject> catalogue() throws IOException {
    String doc = Files.readString(Path.of("docs", "webhooks.md"));
    int start = doc.indexOf("\n## Event catalogue\n");
    assertThat(start).as("an Event catalogue section").isPositive();
    int end = doc.indexOf("\n## ", start + 1);
    String section = doc.substring(start, end < 0 ? doc.length() : end);
    Map<String, JsonObject> examples = new LinkedHashMap<>();
    Matcher m = ENTRY.matcher(section);
    while (m.find()) {
      assertThat(examples.put(m.group(1), new JsonObject(m.group(2)))).as("documented once: " + m.group(1)).isNull();
    }
    List<String> headings = section.lines().filter(l -> l.startsWith("### ")).toList();
    assertThat(examples).as("an example under every heading of " + headings).hasSameSizeAs(headings);
    return examples;
  }
}
