package dev.orgservice.mongo;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryMatcher;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import de.bwaldvogel.mongo.exception.MongoServerException;
import io.netty.channel.Channel;

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
 * The backends are subclassed to fix bugs of mongo-java-server 1.47.0 that we hit (see "Fixes" below).
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

    /*
     * Fixes, each found with the Node.js driver against mongo-java-server 1.47.0:
     *
     * A. "create" (db.createCollection, mongoose's autoCreate) is not synchronized with the implicit creation
     *    of a collection by its first write, which is. Run at the same time on a new collection, either one
     *    could fail with "Unknown error: Document with key 'db.coll' already existed in
     *    H2Collection(db.system.namespaces)" (H2) or "Unknown error: null" (memory, which also listed the
     *    collection twice). Now "create" takes the same lock (the database); the loser gets NamespaceExists (48).
     * B. createIndex (mongoose's autoIndex) adds to a collection's index list without the collection's lock
     *    that writes hold while they walk that list: concurrent writes failed with "Unknown error: null"
     *    (a ConcurrentModificationException), and a document written while an index was being built could be
     *    missed by it. Now adding and dropping indexes take the collection's lock.
     * C. "hello" is only known as "isMaster". The driver sends "hello" for its handshake when a serverApi is
     *    set, and applications may send it; answer it the way MongoDB does.
     * D. A renameCollection across databases fails half-way ("Cannot invoke ... updateDocuments ... because
     *    the return value of AtomicReference.get() is null") or leaves the indexes and, for H2, the data
     *    behind; refuse it up front with IllegalOperation (20) instead.
     * E. H2 only: renameCollection renamed nothing in the MVStore file (H2Database.moveCollection reads the
     *    collection's name after the rename), so a renamed collection was empty after a restart.
     * F. H2 only: dropDatabase("x") removed the maps of every database whose name starts with "x" (x1, x_2, ...),
     *    destroying their data ("Map ... is closed" on the next write).
     * G. listCollections ignored its filter and returned every collection; apply the filter.
     * H. Dropping a missing collection ("ns not found") and renaming one ("source namespace does not exist")
     *    failed without an error code; MongoDB says NamespaceNotFound (26), which the driver's drop() ignores.
     */

    // H2Database's private names of the MVStore maps of a collection "db.coll": "databases.db.coll" holds
    // the documents, "meta.db.coll" the data size, and "db.coll._index_NAME" each unique index.
    private static final String DATA_MAP_PREFIX = "databases.";
    private static final String META_MAP_PREFIX = "meta.";
    private static final String PARKED_MAP_PREFIX = "local-mongo-parked.";
    private static final List<String> NAMESPACE_NOT_FOUND_MESSAGES = List.of("ns not found", "source namespace does not exist");

    static Document handleCommandWithFixes(String command, Document query, Function<String, Document> handleCommand) {
        if (command.equalsIgnoreCase("hello")) { // C
            Document reply = handleCommand.apply("isMaster");
            reply.put("isWritablePrimary", reply.remove("ismaster"));
            return reply;
        }
        if (command.equalsIgnoreCase("listCollections") && query.get("filter") instanceof Document filter
            && !filter.isEmpty()) { // G
            Document reply = handleCommand.apply(command);
            Document cursor = (Document) reply.get("cursor");
            List<?> all = (List<?>) cursor.get("firstBatch");
            QueryMatcher matcher = new DefaultQueryMatcher(); // not thread-safe: one per call
            cursor.put("firstBatch", all.stream().filter(c -> matcher.matches((Document) c, filter)).toList());
            return reply;
        }
        if (command.equalsIgnoreCase("renameCollection") && query.get("to") != null) { // D
            String from = Utils.getDatabaseNameFromFullName(String.valueOf(query.get(command)));
            String to = Utils.getDatabaseNameFromFullName(String.valueOf(query.get("to")));
            if (!from.equals(to)) {
                throw new MongoServerError(20, "IllegalOperation",
                    "renaming a collection across databases is not supported by this server (mongo-java-server)");
            }
        }
        try {
            return handleCommand.apply(command);
        } catch (MongoServerException e) {
            if (!(e instanceof MongoServerError) && NAMESPACE_NOT_FOUND_MESSAGES.contains(e.getMessage())) { // H
                throw new MongoServerError(26, "NamespaceNotFound", e.getMessage());
            }
            throw e;
        }
    }

    static final class FixedH2Backend extends H2Backend {

        FixedH2Backend(String fileName) {
            super(unparkMaps(MVStore.open(fileName)));
        }

        @Override
        protected MongoDatabase openOrCreateDatabase(String databaseName) {
            return new FixedH2Database(databaseName);
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            return handleCommandWithFixes(command, query, c -> super.handleCommand(channel, databaseName, c, query));
        }

        @Override
        public void dropDatabase(String databaseName) { // F
            // Park the maps of the other databases that H2Database.drop would take for its own.
            MVStore store = getMvStore();
            Map<String, String> parked = new LinkedHashMap<>();
            for (String name : new ArrayList<>(store.getMapNames())) {
                for (String prefix : List.of(DATA_MAP_PREFIX, META_MAP_PREFIX)) {
                    if (name.startsWith(prefix + databaseName) && !name.startsWith(prefix + databaseName + ".")) {
                        store.renameMap(store.openMap(name), PARKED_MAP_PREFIX + name);
                        parked.put(PARKED_MAP_PREFIX + name, name);
                    }
                }
            }
            try {
                super.dropDatabase(databaseName);
            } finally {
                parked.forEach((parkedName, name) -> store.renameMap(store.openMap(parkedName), name));
            }
        }

        /** Puts back maps parked by a dropDatabase that a crash interrupted. */
        private static MVStore unparkMaps(MVStore store) {
            for (String name : new ArrayList<>(store.getMapNames())) {
                if (name.startsWith(PARKED_MAP_PREFIX)) {
                    store.renameMap(store.openMap(name), name.substring(PARKED_MAP_PREFIX.length()));
                }
            }
            return store;
        }

        // Not static: it needs the backend's MVStore already while H2Database's constructor runs.
        final class FixedH2Database extends H2Database {

            FixedH2Database(String databaseName) {
                super(databaseName, getMvStore(), getCursorRegistry());
            }

            @Override
            public synchronized MongoCollection<Object> createCollectionOrThrowIfExists(String name, CollectionOptions options) {
                return super.createCollectionOrThrowIfExists(name, options); // A
            }

            @Override
            protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
                String fullName = getFullCollectionNamespace(collectionName); // same maps as H2Database uses
                MVStore store = getMvStore();
                return new H2Collection(this, collectionName, options, store.openMap(DATA_MAP_PREFIX + fullName),
                    store.openMap(META_MAP_PREFIX + fullName), cursorRegistry) {
                    @Override
                    public synchronized void addIndex(Index<Object> index) {
                        super.addIndex(index); // B
                    }

                    @Override
                    public synchronized void dropIndex(String indexName) {
                        super.dropIndex(indexName); // B
                    }
                };
            }

            @Override
            public void moveCollection(MongoDatabase oldDatabase, MongoCollection<?> collection, String newCollectionName) {
                String oldFullName = collection.getFullName();
                super.moveCollection(oldDatabase, collection, newCollectionName);
                String newFullName = collection.getFullName();
                MVStore store = getMvStore(); // E: move the data, size and unique index maps to the new name
                for (String name : new ArrayList<>(store.getMapNames())) {
                    String newName = null;
                    if (name.equals(DATA_MAP_PREFIX + oldFullName)) {
                        newName = DATA_MAP_PREFIX + newFullName;
                    } else if (name.equals(META_MAP_PREFIX + oldFullName)) {
                        newName = META_MAP_PREFIX + newFullName;
                    } else if (name.startsWith(oldFullName + "._index_")) {
                        newName = newFullName + name.substring(oldFullName.length());
                    }
                    if (newName != null) {
                        if (store.hasMap(newName)) {
                            store.removeMap(newName); // the empty map that H2Database.moveCollection opened
                        }
                        store.renameMap(store.openMap(name), newName);
                    }
                }
            }
        }
    }

    static final class FixedMemoryBackend extends MemoryBackend {

        @Override
        public MemoryDatabase openOrCreateDatabase(String databaseName) {
            return new MemoryDatabase(databaseName, getCursorRegistry()) {
                @Override
                public synchronized MongoCollection<Integer> createCollectionOrThrowIfExists(String name, CollectionOptions options) {
                    return super.createCollectionOrThrowIfExists(name, options); // A
                }

                @Override
                protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
                    return new MemoryCollection(this, collectionName, options, cursorRegistry) {
                        @Override
                        public synchronized void addIndex(Index<Integer> index) {
                            super.addIndex(index); // B
                        }

                        @Override
                        public synchronized void dropIndex(String indexName) {
                            super.dropIndex(indexName); // B
                        }
                    };
                }
            };
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            return handleCommandWithFixes(command, query, c -> super.handleCommand(channel, databaseName, c, query));
        }
    }
}
