package dev.airflowtemporal.core.wire;

/** Version of the JSON contract between the Python executor and the Java workflows (docs/wire-contract.md). */
public final class ContractVersion {
  /** Bumped on any change a peer built for the previous version would misread. */
  public static final int CURRENT = 1;

  private ContractVersion() {}
}
