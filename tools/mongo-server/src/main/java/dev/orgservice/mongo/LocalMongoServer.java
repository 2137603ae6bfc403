package dev.orgservice.mongo;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;

/**
 * Starts mongo-java-server as a stand-alone MongoDB wire-protocol server.
 *
 * <pre>
 *   java -jar local-mongo-server.jar [--port N] [--bind HOST] (--data FILE | --memory) [--exit-on-stdin-eof]
 * </pre>
 *
 * stdout carries exactly one line, "mongo-java-server listening on HOST:PORT", printed once the
 * socket accepts connections, so a parent process can wait for it. Everything else goes to stderr.
 *
 * --exit-on-stdin-eof is for a parent process that keeps a pipe to our stdin open: when the parent dies,
 * even by SIGKILL, the OS closes the pipe and we shut down instead of lingering as an orphan.
 *
 * The backends are subclassed to fix bugs of mongo-java-server 1.47.0 that we hit (see CommandFixes).
 */
public final class LocalMongoServer {

    /**
     * The version the server reports in its isMaster/hello reply and in buildInfo.
     *
     * mongo-java-server 1.47.0 reports wire version 8 at most (ServerVersion.MONGO_5_0 carries wire
     * version 8), but the Node.js driver 7.x refuses servers below wire version 9 (MongoDB 4.4,
     * MIN_SUPPORTED_WIRE_VERSION in mongodb/lib/cmap/wire_protocol/constants.js). The backend accepts any
     * MongoVersion, and the wire version only changes what the handshake reply says, not how the server
     * behaves, so we report the lowest version the driver accepts. Reporting more (e.g. 13 = 5.0) would make
     * the driver assume features this server does not have.
     */
    static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private LocalMongoServer() {
    }

    public static void main(String[] args) {
        // Must be set before any slf4j logger exists: warnings only, and never on stdout.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        // Every failed command (dropping a missing collection is routine) would be logged with its stack
        // trace; the client gets the error anyway, and a parent that stops reading stderr would block
        // the server. MongoDatabaseHandler logs under MongoWireProtocolHandler's name.
        System.setProperty("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler", "off");

        int port = 27017;
        String bindHost = "127.0.0.1";
        String dataFile = null;
        boolean memory = false;
        boolean exitOnStdinEof = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--port" -> port = Integer.parseInt(args[++i]);
                    case "--bind" -> bindHost = args[++i];
                    case "--data" -> dataFile = args[++i];
                    case "--memory" -> memory = true;
                    case "--exit-on-stdin-eof" -> exitOnStdinEof = true;
                    default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
                }
            }
            if ((dataFile == null) == !memory) {
                throw new IllegalArgumentException("give exactly one of --data FILE or --memory");
            }
        } catch (RuntimeException e) { // also a missing value (index out of bounds) or a bad number
            System.err.println("error: " + e.getMessage());
            System.err.println("usage: java -jar local-mongo-server.jar [--port N] [--bind HOST] (--data FILE | --memory)"
                + " [--exit-on-stdin-eof]");
            System.exit(2);
            return;
        }

        MongoBackend backend;
        if (memory) {
            backend = new FixedMemoryBackend();
        } else {
            File file = new File(dataFile).getAbsoluteFile();
            File dir = file.getParentFile();
            if (dir != null) {
                dir.mkdirs(); // MVStore creates the file but not missing directories
            }
            backend = new FixedH2Backend(file.getPath()); // fails if another process holds the file
        }
        backend.version(REPORTED_VERSION);

        MongoServer server = new MongoServer(backend);
        try {
            server.bind(bindHost, port); // returns once the socket is bound and accepting
        } catch (Exception e) { // netty rethrows the checked java.net.BindException undeclared
            System.err.println("error: cannot listen on " + bindHost + ":" + port + ": " + e);
            server.shutdownNow(); // stops netty's non-daemon threads and closes (flushes) the H2 file
            System.exit(1);
            return;
        }

        // SIGTERM / SIGINT run the shutdown hooks: close client connections, stop netty, and close the
        // backend, which for H2 writes pending changes and closes the MVStore file cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdownNow();
            System.err.println("mongo-java-server stopped");
        }, "local-mongo-server-shutdown"));

        if (exitOnStdinEof) {
            Thread watcher = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // ignore input; we only wait for end of file
                    }
                } catch (IOException e) {
                    // a broken stdin means the parent is gone as well
                }
                System.exit(0); // runs the shutdown hook above
            }, "stdin-watcher");
            watcher.setDaemon(true);
            watcher.start();
        }

        InetSocketAddress address = server.getLocalAddress(); // actual port, also when --port 0
        System.out.println("mongo-java-server listening on " + bindHost + ":" + address.getPort());
        System.out.flush();
        // netty's event loop threads are non-daemon and keep the JVM running until shutdown.
    }
}
