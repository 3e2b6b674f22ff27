package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.InvalidDagException;
import dev.airflowtemporal.core.dag.SerializedDagParser;
import dev.airflowtemporal.core.dag.Timetable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.hibernate.SessionFactory;
import org.hibernate.query.SelectionQuery;

/**
 * Reads which DAGs opted in to Temporal Schedules, and their timetables; never writes.
 *
 * <p>A DAG opts in with a tag ({@code dag_tag}) or by being listed by dag_id. Stale DAGs (their
 * file no longer defines them) and DAGs never serialized into this DB are left out, so their
 * schedules go away.
 */
public final class ScheduledDags {
  // The latest serialized version, as SerializedDags.latest picks it: the highest version_number.
  private static final String LATEST_SERIALIZED = "select d.dagId, d.paused, s from DagRow d "
      + "join DagVersionRow v on v.dagId = d.dagId join SerializedDagRow s on s.dagVersionId = v.id "
      + "where coalesce(d.stale, false) = false "
      + "and v.versionNumber = (select max(v2.versionNumber) from SerializedDagRow s2 "
      + "join DagVersionRow v2 on v2.id = s2.dagVersionId where v2.dagId = d.dagId) ";

  private final SessionFactory sessionFactory;

  public ScheduledDags(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * Every non-stale DAG tagged {@code tag} or named in {@code dagIds}, ordered by dag_id.
   *
   * @param tag the opt-in tag; null or empty to opt in by dag_id only
   */
  public List<ScheduledDag> optedIn(String tag, Collection<String> dagIds) {
    Objects.requireNonNull(dagIds, "dagIds");
    boolean byTag = tag != null && !tag.isEmpty();
    if (!byTag && dagIds.isEmpty()) {
      return List.of();
    }
    List<String> optIn = new ArrayList<>();
    if (byTag) {
      optIn.add("exists (select 1 from DagTagRow t where t.dagId = d.dagId and t.name = :tag)");
    }
    if (!dagIds.isEmpty()) {
      optIn.add("d.dagId in (:dagIds)");
    }
    String query = LATEST_SERIALIZED + "and (" + String.join(" or ", optIn) + ") order by d.dagId";
    List<Object[]> rows = sessionFactory.fromTransaction(session -> {
      SelectionQuery<Object[]> select = session.createSelectionQuery(query, Object[].class);
      if (byTag) {
        select.setParameter("tag", tag);
      }
      if (!dagIds.isEmpty()) {
        select.setParameterList("dagIds", dagIds);
      }
      return select.getResultList();
    });
    List<ScheduledDag> dags = new ArrayList<>(rows.size());
    for (Object[] row : rows) {
      String dagId = (String) row[0];
      boolean paused = Boolean.TRUE.equals(row[1]);
      try {
        Timetable timetable = SerializedDagParser.parse(SerializedDags.json((SerializedDagRow) row[2])).timetable();
        dags.add(new ScheduledDag(dagId, paused, timetable, null));
      } catch (InvalidDagException e) {
        dags.add(new ScheduledDag(dagId, paused, null, e.getMessage()));
      }
    }
    return dags;
  }
}
