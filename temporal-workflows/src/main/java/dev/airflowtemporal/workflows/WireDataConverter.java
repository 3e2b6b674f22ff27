package dev.airflowtemporal.workflows;

import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.workflows.codec.AesGcmPayloadCodec;
import dev.airflowtemporal.workflows.codec.CodecKeys;
import io.temporal.common.converter.CodecDataConverter;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.common.converter.JacksonJsonPayloadConverter;
import java.util.List;
import java.util.Optional;

/**
 * The data converter every client and worker of ours uses: JSON in the wire dialect of {@link WireJson},
 * encrypted by {@link AesGcmPayloadCodec} when codec keys are configured.
 */
public final class WireDataConverter {
  private WireDataConverter() {}

  public static DataConverter create() {
    return DefaultDataConverter.newDefaultInstance()
        .withPayloadConverterOverrides(new JacksonJsonPayloadConverter(WireJson.newMapper()));
  }

  /**
   * With keys, every payload and every failure's message and stack trace (which may quote a task's
   * output) are encrypted; without, the same as {@link #create()}.
   */
  public static DataConverter create(Optional<CodecKeys> codecKeys) {
    return codecKeys.<DataConverter>map(keys -> new CodecDataConverter(create(), List.of(new AesGcmPayloadCodec(keys)), true))
        .orElseGet(WireDataConverter::create);
  }
}
