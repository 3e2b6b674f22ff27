package dev.airflowtemporal.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WorkflowIdsTest {
  @Test
  void workflowIdIsDerivedFromDagIdAndRunIdAlone() {
    assertThat(WorkflowIds.forDagRun("etl", "manual__2026-11-23T05:00:00+00:00"))
        .isEqualTo("dagrun:etl:manual__2026-11-23T05:00:00+00:00");
  }

  @Test
  void dagIdWithAColonIsRefusedBecauseTheIdWouldBeAmbiguous() {
    assertThatThrownBy(() -> WorkflowIds.forDagRun("a:b", "r")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dag_id");
  }

  @Test
  void defaultQueueRunsOnTheBaseTaskQueueAndOthersOnTheirOwn() {
    assertThat(TaskQueues.forAirflowQueue("airflow", null)).isEqualTo("airflow");
    assertThat(TaskQueues.forAirflowQueue("airflow", "gpu")).isEqualTo("airflow:gpu");
  }
}
