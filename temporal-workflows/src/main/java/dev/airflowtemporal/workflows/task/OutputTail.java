package dev.airflowtemporal.workflows.task;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Drains a process's output (so it never blocks on a full pipe) and keeps only the last lines, each
 * cut to a bounded length, to report why a runner failed without flooding Temporal's history.
 */
final class OutputTail implements Runnable {
  static final int MAX_LINES = 40;
  static final int MAX_LINE_CHARS = 500;

  private final InputStream stream;
  private final Deque<String> lines = new ArrayDeque<>();

  OutputTail(InputStream stream) {
    this.stream = stream;
  }

  @Override
  public void run() {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        String kept = line.length() > MAX_LINE_CHARS ? line.substring(0, MAX_LINE_CHARS) + "…" : line;
        synchronized (lines) {
          if (lines.size() == MAX_LINES) {
            lines.removeFirst();
          }
          lines.addLast(kept);
        }
      }
    } catch (IOException e) {
      // The process was killed and its pipe closed: what was read so far is the tail.
    }
  }

  String text() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }
}
