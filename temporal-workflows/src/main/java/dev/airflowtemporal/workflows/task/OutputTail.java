package dev.airflowtemporal.workflows.task;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Drains a process's output (so it never blocks on a full pipe) and keeps only the last lines, each
 * cut to a bounded length, to report why a runner failed without flooding Temporal's history.
 */
final class OutputTail implements Runnable {
  static final int MAX_LINES = 40;
  static final int MAX_LINE_CHARS = 500;
  /** Enough bytes for MAX_LINES lines of MAX_LINE_CHARS characters of up to 4 bytes each. */
  private static final int MAX_FILE_TAIL_BYTES = MAX_LINES * (MAX_LINE_CHARS * 4 + 1);

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

  /**
   * The tail of a file a runner wrote its output to (a forked runner); only the file's last bytes
   * are read, as a task that logs gigabytes to stdout leaves a file that large.
   */
  static String ofFile(Path file) throws IOException {
    byte[] end;
    boolean cut;
    try (SeekableByteChannel channel = Files.newByteChannel(file)) {
      long size = channel.size();
      cut = size > MAX_FILE_TAIL_BYTES;
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size, MAX_FILE_TAIL_BYTES));
      channel.position(size - buffer.capacity());
      while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
        // read until full: the runner has exited, the file no longer grows
      }
      end = buffer.array();
    }
    int start = 0;
    if (cut) {
      // The first line read is most likely the end of a longer one.
      while (start < end.length && end[start] != '\n') {
        start++;
      }
      start = Math.min(start + 1, end.length);
    }
    OutputTail tail = new OutputTail(new ByteArrayInputStream(end, start, end.length - start));
    tail.run();
    return tail.text();
  }

  String text() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }
}
