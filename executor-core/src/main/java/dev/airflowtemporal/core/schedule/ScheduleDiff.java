package dev.airflowtemporal.core.schedule;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The changes that turn the existing managed schedules into the desired ones. */
public final class ScheduleDiff {
  private ScheduleDiff() {}

  /** At most one change per DAG, ordered by dag_id so that a sync always applies them in the same order. */
  public static List<ScheduleChange> between(Collection<DesiredSchedule> desired, Collection<ExistingSchedule> existing) {
    Map<String, DesiredSchedule> want = byDag(desired, DesiredSchedule::dagId);
    Map<String, ExistingSchedule> have = byDag(existing, ExistingSchedule::dagId);
    TreeSet<String> dagIds = new TreeSet<>(want.keySet());
    dagIds.addAll(have.keySet());
    List<ScheduleChange> changes = new ArrayList<>();
    for (String dagId : dagIds) {
      DesiredSchedule target = want.get(dagId);
      ExistingSchedule current = have.get(dagId);
      if (target == null) {
        changes.add(new ScheduleChange.Delete(dagId));
      } else if (current == null) {
        changes.add(new ScheduleChange.Create(dagId, target.schedule(), target.paused()));
      } else if (!target.schedule().equals(current.schedule())) {
        changes.add(new ScheduleChange.Update(dagId, target.schedule(), target.paused()));
      } else if (target.paused() != current.paused()) {
        changes.add(target.paused() ? new ScheduleChange.Pause(dagId) : new ScheduleChange.Unpause(dagId));
      }
    }
    return changes;
  }

  private static <T> Map<String, T> byDag(Collection<T> schedules, Function<T, String> dagId) {
    return schedules.stream().collect(Collectors.toMap(dagId, Function.identity(), (a, b) -> {
      throw new IllegalArgumentException("two schedules for DAG '" + dagId.apply(a) + "'");
    }, TreeMap::new));
  }
}
