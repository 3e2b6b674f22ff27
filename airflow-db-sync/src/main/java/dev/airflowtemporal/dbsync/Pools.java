package dev.airflowtemporal.dbsync;

import org.hibernate.SessionFactory;

/** Reads Airflow's pools ({@code slot_pool}); pools are managed in Airflow, never here. */
public final class Pools {
  /** Airflow's marker for a pool without a limit. */
  public static final int UNLIMITED = -1;

  private final SessionFactory sessionFactory;

  public Pools(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * The pool's total slots, or {@link #UNLIMITED}.
   *
   * @throws UnknownPoolException when no pool has this name
   */
  public int slots(String pool) {
    Integer slots = sessionFactory.fromTransaction(session -> session.createSelectionQuery(
            "select p.slots from SlotPoolRow p where p.pool = :pool", Integer.class)
        .setParameter("pool", pool)
        .uniqueResult());
    if (slots == null) {
      throw new UnknownPoolException(pool);
    }
    return slots;
  }
}
