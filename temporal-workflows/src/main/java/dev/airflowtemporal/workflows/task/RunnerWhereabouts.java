package dev.airflowtemporal.workflows.task;

/**
 * Where an attempt's runner lives: the details of every task activity heartbeat. When Temporal
 * times the activity out (its worker fell silent), the workflow reads them from the timeout and asks
 * that worker process, on its own task queue, to hand the runner back ({@link TaskActivities#reattachTask}).
 *
 * @param reattachQueue the task queue only the worker process that started the runner polls
 * @param runnerId this runner among the ones that worker process started
 * @param pid the runner's process id, for people reading the history
 * @param host the worker's host name, likewise
 * @param attempt what the runner runs, as its worker logs it ({@code dag/run/task[3] try 2}): the Airflow UI's
 *     Temporal tab tells the run's pending activities apart by it (absent from heartbeats of older workers)
 */
public record RunnerWhereabouts(String reattachQueue, String runnerId, long pid, String host, String attempt) {}
