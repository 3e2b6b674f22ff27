package dev.airflowtemporal.core.dag;

import java.util.List;
import java.util.Optional;

/**
 * What a Temporal-owned run does next, as {@link DagRunStateMachine#nextStep()} decides it. The driver
 * carries it out in this order, telling the state machine what each write found:
 * <ol>
 *   <li>write {@link #marks} ({@link DagRunStateMachine#marked});</li>
 *   <li>with {@link #runState}, end the run: nothing else is left to do;</li>
 *   <li>expand each of {@link #expand} ({@link DagRunStateMachine#expanded}), then decide again;</li>
 *   <li>after marks, decide again;</li>
 *   <li>revise each of {@link #revise} ({@link DagRunStateMachine#revised}), then decide again;</li>
 *   <li>queue what {@link DagRunStateMachine#attemptsToQueue} gives for {@link #ready} (tries due for a
 *       retry come along), then decide again when {@link DagRunStateMachine#queued} says states changed.</li>
 * </ol>
 *
 * @param marks task instances settled without a runner: the trigger rules' skipped, upstream_failed,
 *     removed, and success (try 1) for a plain EmptyOperator, which Airflow never runs
 * @param runState the DagRun's final state, once nothing can run any more
 * @param expand mapped tasks whose trigger rule is met, to be expanded into their instances
 * @param revise cleared mapped tasks about to run again, whose map indexes follow the length their
 *     upstreams recorded now (Airflow's {@code _revise_map_indexes_if_mapped})
 * @param ready task instances whose trigger rule is met and that need a runner, highest priority first
 */
public record DagRunStep(List<TaskInstanceMark> marks, Optional<TaskState> runState, List<String> expand,
                         List<String> revise, List<TaskInstanceRef> ready) {
  public DagRunStep {
    marks = List.copyOf(marks);
    expand = List.copyOf(expand);
    revise = List.copyOf(revise);
    ready = List.copyOf(ready);
  }
}
