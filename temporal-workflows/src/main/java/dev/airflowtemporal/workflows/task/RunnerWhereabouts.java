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
 */
public record RunnerWhereabouts(String reattachQueue, String runnerId, long pid, String host) {}
