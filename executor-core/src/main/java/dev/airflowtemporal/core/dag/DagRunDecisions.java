package dev.airflowtemporal.core.dag;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to do next for one DagRun (see {@link DagRunDecider}).
 *
 * @param start tasks whose trigger rule is met, by descending priority weight, then task id
 * @param mark tasks to set skipped, upstream_failed or removed, in plan order
 * @param runState the DagRun's final state ({@code SUCCESS} or {@code FAILED}) once it is over
 */
public record DagRunDecisions(List<String> start, Map<String, TaskState> mark, Optional<TaskState> runState) {
  public DagRunDecisions {
    start = List.copyOf(start);
    mark = Collections.unmodifiableMap(new LinkedHashMap<>(mark));
  }
}
