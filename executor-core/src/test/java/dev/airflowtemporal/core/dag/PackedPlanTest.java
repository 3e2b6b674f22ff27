package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.WireJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PackedPlanTest {
  @Test
  void aPlanSurvivesPackingWithEveryField() throws Exception {
    DagPlan plan = SerializedDagParser.parse(
        PackedPlanTest.class.getResourceAsStream("/serialized-dags/grouped_mapped_branch.json").readAllBytes());
    assertThat(PackedPlan.pack(plan).unpack()).isEqualTo(plan);
  }

  @Test
  void aFiveThousandTaskPlanPacksFarBelowTemporalsPayloadLimit() throws Exception {
    List<TaskPlan> tasks = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      tasks.add(new TaskPlan("task_" + i, "airflow.providers.standard.operators.bash.BashOperator", null, null,
          i == 0 ? List.of() : List.of("task_" + (i - 1)), i == 4_999 ? List.of() : List.of("task_" + (i + 1)),
          TriggerRule.ALL_SUCCESS, 2, Duration.ofSeconds(300), 0, Optional.empty(), Optional.of(Duration.ofMinutes(5)),
          "default_pool", 1, "default", 1, "downstream", Optional.empty(), Optional.empty(), List.of(), false, false, false,
          Optional.empty()));
    }
    DagPlan plan = new DagPlan("big", new Timetable(Timetable.NULL_TIMETABLE, Optional.empty(), Optional.empty()), 16, tasks, Optional.of(Duration.ofMinutes(4)));
    ObjectMapper json = WireJson.newMapper();
    PackedPlan packed = PackedPlan.pack(plan);
    assertThat(json.writeValueAsBytes(plan).length).as("unpacked").isGreaterThan(2_000_000);
    assertThat(json.writeValueAsBytes(packed).length).as("packed, base64 in JSON").isLessThan(200_000);
    assertThat(packed.unpack()).isEqualTo(plan);
  }
}
