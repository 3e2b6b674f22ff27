package dev.airflowtemporal.workflows.cleared;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import org.slf4j.Logger;

public class ClearedRunsSweepWorkflowImpl implements ClearedRunsSweepWorkflow {
  /** About 7 history events per sweep: a run stays near 1,400 events, far below Temporal's limits. */
  static final int SWEEPS_PER_RUN = 200;

  private static final Logger log = Workflow.getLogger(ClearedRunsSweepWorkflowImpl.class);

  // One attempt: the loop itself is the retry, and a sweep that failed is simply done again next time.
  private final ClearedRunsSweepActivities activities = Workflow.newActivityStub(ClearedRunsSweepActivities.class,
      ActivityOptions.newBuilder()
          .setStartToCloseTimeout(Duration.ofMinutes(2))
          .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
          .build());

  private ClearedRunsSweepSettings settings;
  private boolean reconfigured;
  private boolean stopped;
  private ClearedRunsSweepSummary lastSummary;

  @Override
  public void run(ClearedRunsSweepSettings initial) {
    if (settings == null) {
      settings = initial;
    }
    for (int sweep = 0; sweep < SWEEPS_PER_RUN && !Workflow.getInfo().isContinueAsNewSuggested(); sweep++) {
      if (stopped) {
        log.info("cleared-runs sweep stopped");
        return;
      }
      reconfigured = false;
      try {
        lastSummary = activities.sweep(settings);
        if (lastSummary.queued() + lastSummary.signalled() + lastSummary.failed() + lastSummary.waitsResumed() > 0) {
          log.info("cleared-runs sweep: {}", lastSummary);
        }
      } catch (ActivityFailure e) {
        log.warn("cleared-runs sweep failed, next attempt in {}: {}", settings.interval(), e.getCause().getMessage());
      }
      Workflow.await(settings.interval(), () -> reconfigured || stopped);
    }
    if (stopped) {
      return;
    }
    Workflow.continueAsNew(settings);
  }

  @Override
  public void configure(ClearedRunsSweepSettings newSettings) {
    // A worker started since a stop wants the sweep: the last worker started decides.
    stopped = false;
    reconfigured |= !newSettings.equals(settings);
    settings = newSettings;
  }

  @Override
  public void stop() {
    stopped = true;
  }

  @Override
  public ClearedRunsSweepSummary lastSummary() {
    return lastSummary;
  }
}
