package io.postback.gateway.api;

import io.postback.gateway.http.ApiContract;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.SharedGateway;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.Validator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ingest hot path is hand-written for speed, so its documented request schema could drift from what
 * it accepts: here the document's ConversionIn schema and a real gateway judge the same bodies and must
 * agree. (Rules that join fields, such as "a sale needs grossMinor", are stated in the schema's prose, not
 * in JSON Schema, so the bodies below each obey them.)
 */
class IngestSchemaTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private static GatewayClient.TestSurface surface;
  private static Validator schema;

  @BeforeAll
  static void setUp() {
    surface = gateway.client().createSurface();
    JsonObject document = ApiContract.load().document();
    JsonObject conversion = inline(document, document.getJsonObject("components").getJsonObject("schemas")
        .getJsonObject("ConversionIn"));
    schema = Validator.create(JsonSchema.of(conversion),
        new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri("app:///").setOutputFormat(OutputFormat.Basic));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      // accepted by both
      "{'externalId':'%s','eventType':'signup'}",
      "{'externalId':'%s','eventType':'sale','grossMinor':4999,'currency':'USD'}",
      "{'externalId':'%s','eventType':'install','grossMinor':0}",
      "{'externalId':'%s','eventType':'lead','occurredAt':'2026-01-31T12:00:00Z','clickId':'clk_x','promoCode':'SUMMER'}",
      "{'externalId':'%s','eventType':'deposit','grossMinor':100000000000000,'currency':'EUR','metadata':{'a':[1,2]}}",
      "{'externalId':'%s','eventType':'signup','aFieldFromTheFuture':true}",
      // refused by both
      "{'eventType':'signup','note':'%s'}",
      "{'externalId':'%s'}",
      "{'externalId':'','eventType':'signup','note':'%s'}",
      "{'externalId':'%s','eventType':'Sale'}",
      "{'externalId':'%s','eventType':'sale!'}",
      "{'externalId':'%s','eventType':'sale','grossMinor':-1,'currency':'USD'}",
      "{'externalId':'%s','eventType':'sale','grossMinor':100000000000001,'currency':'USD'}",
      "{'externalId':'%s','eventType':'sale','grossMinor':'4999','currency':'USD'}",
      "{'externalId':'%s','eventType':'sale','grossMinor':49.99,'currency':'USD'}",
      "{'externalId':'%s','eventType':'sale','grossMinor':4999,'currency':'usd'}",
      "{'externalId':%s,'eventType':'signup'}",
      "{'externalId':'%s','eventType':'signup','clickId':''}",
      "{'externalId':'%s','eventType':'signup','metadata':'not an object'}",
  })
  void theDocumentedSchemaAcceptsWhatTheGatewayAccepts(String template) {
    String id = template.contains("'externalId':%s") ? "12345" : "schema-" + UUID.randomUUID();
    String body = template.replace('\'', '"').formatted(id);
    Reply reply = gateway.client().postback(surface, body);
    assertThat(reply.status()).as(reply.body()).isIn(200, 400);
    boolean valid = schema.validate(new JsonObject(body)).getValid();
    assertThat(valid).as("schema says %s, gateway answered %s for %s", valid, reply, body)
        .isEqualTo(reply.status() == 200);
  }

  /** The schema with its local references ("#/components/schemas/X") written out in place. */
  private static JsonObject inline(JsonObject document, JsonObject schema) {
    JsonObject out = new JsonObject();
    for (String key : schema.fieldNames()) {
      Object value = schema.getValue(key);
      if (key.equals("$ref")) {
        String[] path = ((String) value).substring(2).split("/");
        JsonObject target = document;
        for (String segment : path) {
          target = target.getJsonObject(segment);
        }
        inline(document, target).forEach(e -> out.put(e.getKey(), e.getValue()));
      } else {
        out.put(key, inlineValue(document, value));
      }
    }
    return out;
  }

  private static Object inlineValue(JsonObject document, Object value) {
    if (value instanceof JsonObject object) {
      return inline(document, object);
    }
    if (value instanceof JsonArray array) {
      JsonArray out = new JsonArray();
      array.forEach(item -> out.add(inlineValue(document, item)));
      return out;
    }
    return value;
  }
}
