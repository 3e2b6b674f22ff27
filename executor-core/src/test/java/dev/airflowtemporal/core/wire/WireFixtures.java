package dev.airflowtemporal.core.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared wire fixtures in docs/wire-contract/fixtures, read by the Java and Python tests alike. */
public final class WireFixtures {
  private WireFixtures() {}

  public static Path dir() {
    String root = System.getProperty("airflowtemporal.repoRoot");
    Path start = root != null ? Path.of(root) : Path.of("").toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      Path candidate = p.resolve("docs/wire-contract/fixtures");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("docs/wire-contract/fixtures not found above " + start);
  }

  public static String read(String name) throws IOException {
    return Files.readString(dir().resolve(name));
  }
}
