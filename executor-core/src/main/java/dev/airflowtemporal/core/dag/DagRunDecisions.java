package dev.airflowtemporal.core.dag;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to do next for one DagRun (see {@link DagRunDecider}).
 *
 * @param start task instances whose trigger rule is met, by descending priority weight, then task
 *     id and map index
 * @param expand mapped tasks whose trigger rule is met and that are to be expanded into their instances
 * @param mark task instances to set skipped, upstream_failed or removed, in plan order
 * @param runState the DagRun's final state ({@code SUCCESS} or {@code FAILED}) once it is over
 */
public record DagRunDecisions(List<TaskInstanceRef> start, List<String> expand, Map<TaskInstanceRef, TaskState> mark,
                              Optional<TaskState> runState) {
  public DagRunDecisions {
    start = List.copyOf(start);
    expand = List.copyOf(expand);
    mark = Collections.unmodifiableMap(new LinkedHashMap<>(mark));
  }
}
