package dev.airflowtemporal.core.dag;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.WireJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterOutputStream;

/**
 * A {@link DagPlan} as zlib-compressed JSON, the form in which it travels through Temporal. A plan's
 * JSON repeats the same keys and defaults for every task (about 600 bytes each), so a 5,000-task DAG
 * would exceed Temporal's 2 MB payload limit; compressed it stays far below (the same reason Airflow
 * stores serialized DAGs compressed).
 *
 * @param zlibJson the plan's JSON (snake_case, as {@link WireJson}), zlib-compressed
 */
public record PackedPlan(byte[] zlibJson) {
  private static final ObjectMapper JSON = WireJson.newMapper();

  public static PackedPlan pack(DagPlan plan) {
    ByteArrayOutputStream packed = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(packed, new Deflater(Deflater.BEST_COMPRESSION))) {
      JSON.writeValue(out, plan);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot pack the plan of DAG '" + plan.dagId() + "'", e);
    }
    return new PackedPlan(packed.toByteArray());
  }

  public DagPlan unpack() {
    ByteArrayOutputStream json = new ByteArrayOutputStream(zlibJson.length * 16);
    try (InflaterOutputStream out = new InflaterOutputStream(json, new Inflater())) {
      out.write(zlibJson);
    } catch (IOException e) {
      throw new UncheckedIOException("a packed plan is not zlib data", e);
    }
    try {
      return JSON.readValue(json.toByteArray(), DagPlan.class);
    } catch (IOException e) {
      throw new UncheckedIOException("a packed plan does not hold a plan", e);
    }
  }

  /** Records compare arrays by reference; two packings of the same plan are the same bytes. */
  @Override
  public boolean equals(Object other) {
    return other instanceof PackedPlan that && Arrays.equals(zlibJson, that.zlibJson);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(zlibJson);
  }

  @Override
  public String toString() {
    return "PackedPlan[" + zlibJson.length + " bytes]";
  }
}
