package dev.airflowtemporal.dbsync;

/**
 * The DagRun was cleared in Airflow (its {@code clear_number} moved on) since the caller last read
 * it: the write was rolled back, because it was decided on task states the clear has reset. The
 * caller reads the run again ({@link DagRuns#resumeExternal}, {@link TaskInstanceSettlement#all}) and decides anew.
 */
public class DagRunClearedException extends RuntimeException {
  public DagRunClearedException(DagRunKey run, int expectedClearNumber, Integer clearNumber) {
    super("DagRun " + run.dagId() + "/" + run.runId() + " was cleared since it was read (clear_number "
        + (clearNumber == null ? "gone: the run was deleted" : clearNumber) + ", expected " + expectedClearNumber
        + "); nothing was written");
  }
}
