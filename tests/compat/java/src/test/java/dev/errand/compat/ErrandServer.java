package dev.errand.compat;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The server a test talks to: an errand process of its own (a free loopback port, a fresh temporary
 * data directory, {@code errand serve --log-level debug}), or, in oracle mode, the already running
 * server named by COMPAT_ORACLE_ADDRESS, which is not ours to stop or restart.
 */
final class ErrandServer {
  /** The external server of oracle mode, or "". */
  static final String ORACLE_ADDRESS =
      System.getenv().getOrDefault("COMPAT_ORACLE_ADDRESS", "").trim();

  final String address;
  private final Path dataDir;
  private final Path logFile;
  private Process process;

  private ErrandServer(String address, Path dataDir, Path logFile) {
    this.address = address;
    this.dataDir = dataDir;
    this.logFile = logFile;
  }

  static boolean oracleMode() {
    return !ORACLE_ADDRESS.isEmpty();
  }

  /** A fresh errand process, or the oracle. */
  static ErrandServer startNew() throws IOException {
    if (oracleMode()) {
      return new ErrandServer(ORACLE_ADDRESS, null, null);
    }
    Path dataDir = Files.createTempDirectory("errand-compat-java-");
    ErrandServer server =
        new ErrandServer(
            "127.0.0.1:" + freePort(),
            dataDir,
            dataDir.resolveSibling(dataDir.getFileName() + ".log"));
    server.start();
    return server;
  }

  static Path binary() {
    String path = System.getenv("ERRAND_BIN");
    Path bin =
        path == null || path.isEmpty()
            ? Paths.get(System.getProperty("user.dir"), "..", "..", "..", "build", "errand")
                .normalize()
            : Paths.get(path);
    if (!Files.isExecutable(bin) || Files.isDirectory(bin)) {
      fail("errand binary not found at " + bin + "; build it or set ERRAND_BIN");
    }
    return bin;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Starts errand on this server's address and data directory; waits until it listens. */
  void start() throws IOException {
    requireOwn("start");
    ProcessBuilder pb =
        new ProcessBuilder(
                binary().toString(),
                "serve",
                "--listen",
                address,
                "--data-dir",
                dataDir.toString(),
                "--log-level",
                "debug",
                // Any free port: the default (8233) would be shared by every server.
                "--http-listen",
                "127.0.0.1:0")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    process = pb.start();
    String[] hostPort = address.split(":");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail("errand exited with " + process.exitValue() + ":\n" + log());
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 500);
        return;
      } catch (IOException notYet) {
        sleep(20);
      }
    }
    fail("errand did not listen on " + address + ":\n" + log());
  }

  /** SIGTERM and wait (SIGKILL after 15 s). */
  void stop() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      process = null;
      fail("errand did not stop within 15 s of SIGTERM; killed it");
    }
    process = null;
  }

  /** SIGKILL and wait: a crash, with no chance to flush or close. start() brings it back. */
  void kill() throws InterruptedException {
    requireOwn("kill");
    if (process != null) {
      process.destroyForcibly().waitFor();
      process = null;
    }
  }

  private void requireOwn(String what) {
    if (oracleMode()) {
      throw new IllegalStateException(
          "oracle mode cannot " + what + " the server; call CompatTest.requireOwnServer()");
    }
  }

  /** The server's output so far, its last 256 KiB ("" in oracle mode). */
  String log() {
    if (logFile == null) {
      return "";
    }
    try {
      byte[] bytes = Files.readAllBytes(logFile);
      int max = 256 << 10;
      if (bytes.length > max) {
        return "...\n" + new String(bytes, bytes.length - max, max, StandardCharsets.UTF_8);
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  void cleanup() throws Exception {
    try {
      stop();
    } finally {
      if (dataDir != null) {
        try (Stream<Path> paths = Files.walk(dataDir)) {
          paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Files.deleteIfExists(logFile);
      }
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }
}
