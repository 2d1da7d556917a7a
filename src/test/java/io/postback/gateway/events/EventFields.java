package io.postback.gateway.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import io.vertx.core.json.jackson.DatabindCodec;

import java.util.List;

/** The payload field names of an event definition, as Event#data serializes them. */
final class EventFields {
  private EventFields() {
  }

  static List<String> of(Class<? extends Event> definition) {
    ObjectMapper mapper = DatabindCodec.mapper();
    return mapper.getSerializationConfig().introspect(mapper.constructType(definition)).findProperties().stream()
        .filter(BeanPropertyDefinition::couldSerialize)
        .map(BeanPropertyDefinition::getName)
        .toList();
  }
}
