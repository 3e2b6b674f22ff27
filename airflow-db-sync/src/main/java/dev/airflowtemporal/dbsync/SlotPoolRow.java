package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** Airflow's {@code slot_pool} row (read only). */
@Entity
@Table(name = "slot_pool")
class SlotPoolRow {
  @Id
  @Column(name = "id")
  Integer id;

  @Column(name = "pool")
  String pool;

  /** -1 means unlimited, as in Airflow. */
  @Column(name = "slots")
  Integer slots;

  protected SlotPoolRow() {}
}
