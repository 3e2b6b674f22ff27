package dev.airflowtemporal.workflows;

import dev.airflowtemporal.core.wire.WireJson;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.common.converter.JacksonJsonPayloadConverter;

/** The data converter every client and worker of ours uses: JSON in the wire dialect of {@link WireJson}. */
public final class WireDataConverter {
  private WireDataConverter() {}

  public static DataConverter create() {
    return DefaultDataConverter.newDefaultInstance()
        .withPayloadConverterOverrides(new JacksonJsonPayloadConverter(WireJson.newMapper()));
  }
}
