package dev.airflowtemporal.workflows.schedule;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import org.slf4j.Logger;

public class ScheduleSyncWorkflowImpl implements ScheduleSyncWorkflow {
  /** About 7 history events per sync: a run stays near 1,400 events, far below Temporal's limits. */
  static final int SYNCS_PER_RUN = 200;

  private static final Logger log = Workflow.getLogger(ScheduleSyncWorkflowImpl.class);

  // One attempt: the loop itself is the retry, and a sync that failed is simply done again next time.
  private final ScheduleSyncActivities activities = Workflow.newActivityStub(ScheduleSyncActivities.class,
      ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofMinutes(5))
          .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
          .build());

  private ScheduleSyncSettings settings;
  private boolean reconfigured;
  private ScheduleSyncSummary lastSummary;

  @Override
  public void run(ScheduleSyncSettings initial) {
    if (settings == null) {
      settings = initial;
    }
    for (int sync = 0; sync < SYNCS_PER_RUN && !Workflow.getInfo().isContinueAsNewSuggested(); sync++) {
      reconfigured = false;
      try {
        lastSummary = activities.sync(settings);
        log.info("schedule sync: {}", lastSummary);
      } catch (ActivityFailure e) {
        log.warn("schedule sync failed, next attempt in {}: {}", settings.interval(), e.getCause().getMessage());
      }
      Workflow.await(settings.interval(), () -> reconfigured);
    }
    Workflow.continueAsNew(settings);
  }

  @Override
  public void configure(ScheduleSyncSettings newSettings) {
    reconfigured |= !newSettings.equals(settings);
    settings = newSettings;
  }

  @Override
  public ScheduleSyncSummary lastSummary() {
    return lastSummary;
  }
}
