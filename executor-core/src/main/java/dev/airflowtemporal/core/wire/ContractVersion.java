package dev.airflowtemporal.core.wire;

/** Version of the JSON contract between the Python executor and the Java workflows (docs/wire-contract.md). */
public final class ContractVersion {
  /** Bumped on any change a peer built for the previous version would misread. */
  public static final int CURRENT = 1;

  private ContractVersion() {}

  /** The problem with a message of this version, or null when this side speaks it. */
  static String problemWith(int version) {
    return version == CURRENT ? null : "contract_version " + version + " is not supported (this worker speaks "
        + CURRENT + "); deploy matching versions of airflow-temporal and the worker JAR";
  }
}
