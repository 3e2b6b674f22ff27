package dev.airflowtemporal.core.dag;

import java.util.Objects;

/**
 * A TaskGroup expanded with {@code .expand}/{@code .expand_kwargs} (Airflow's {@code MappedTaskGroup}):
 * every task inside it runs once per element of what the group maps over (times the instances of
 * any mapped group around it), each instance {@code i} of a task depending on instance {@code i} of
 * its upstreams in the same group.
 *
 * @param groupId the group's node id, with its parents' prefixes (what task ids inside it start with)
 * @param expandInput what the group maps over
 */
public record MappedTaskGroup(String groupId, ExpandInput expandInput) {
  public MappedTaskGroup {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(expandInput, "expandInput");
  }
}
