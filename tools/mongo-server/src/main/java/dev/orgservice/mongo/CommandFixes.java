package dev.orgservice.mongo;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.QueryMatcher;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import de.bwaldvogel.mongo.exception.MongoServerException;

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
 * G. listCollections ignored its filter and returned every collection; apply the filter. A filter on exact
 *    names ({name: "x"} or {name: {$in: [...]}}) looks each name up, as MongoDB does, instead of walking
 *    every collection of the database.
 * H. Dropping a missing collection ("ns not found") and renaming one ("source namespace does not exist")
 *    failed without an error code; MongoDB says NamespaceNotFound (26), which the driver's drop() ignores.
 * I. listDatabases listed a database whose collections had all been dropped or renamed away (and one that
 *    was only read from); in MongoDB a database exists while it holds a collection. List only those.
 */
final class CommandFixes {

    private CommandFixes() {
    }

    /** Not a collection in MongoDB; mongo-java-server keeps index descriptions there and never lists it. */
    private static final String INDEXES_COLLECTION = "system.indexes";

    private static final List<String> NAMESPACE_NOT_FOUND_MESSAGES = List.of("ns not found", "source namespace does not exist");

    /**
     * @param handleCommand runs a command on the database the query was sent to
     * @param runOn runs a command document on the named database
     * @param target the database the query was sent to
     */
    static Document handle(String command, Document query, Function<String, Document> handleCommand,
                           BiFunction<String, Document, Document> runOn, Supplier<MongoDatabase> target) {
        if (command.equalsIgnoreCase("listDatabases")) { // I
            Document reply = handleCommand.apply(command);
            List<?> databases = (List<?>) reply.get("databases");
            reply.put("databases", databases.stream()
                .filter(database -> hasCollections((String) ((Document) database).get("name"), runOn))
                .toList());
            return reply;
        }
        if (command.equalsIgnoreCase("hello")) { // C
            Document reply = handleCommand.apply("isMaster");
            reply.put("isWritablePrimary", reply.remove("ismaster"));
            return reply;
        }
        if (command.equalsIgnoreCase("listCollections") && query.get("filter") instanceof Document filter
            && !filter.isEmpty()) { // G
            List<String> names = exactNames(filter);
            if (names != null) {
                return listNamed(target.get(), names);
            }
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
        return handleWithErrorCodes(command, handleCommand);
    }

    /** The names a filter on `name` alone asks for exactly, or null for any other filter. */
    private static List<String> exactNames(Document filter) {
        Object value = filter.size() == 1 ? filter.get("name") : null;
        if (value instanceof String name) {
            return List.of(name);
        }
        if (value instanceof Document condition && condition.size() == 1 && condition.get("$in") instanceof List<?> names
            && names.stream().allMatch(String.class::isInstance)) {
            return names.stream().map(String.class::cast).distinct().toList();
        }
        return null;
    }

    /** The reply mongo-java-server gives for these collections, from a lookup of each name. */
    private static Document listNamed(MongoDatabase database, List<String> names) {
        List<Document> found = names.stream()
            .filter(name -> !name.equals(INDEXES_COLLECTION) && database.resolveCollection(name, false) != null)
            .map(name -> new Document("name", name)
                .append("options", new Document())
                .append("info", new Document("readOnly", false))
                .append("type", "collection")
                .append("idIndex", new Document("key", new Document("_id", 1)).append("name", "_id_").append("v", 2)))
            .toList();
        Document cursor = new Document("id", 0L)
            .append("ns", database.getDatabaseName() + ".$cmd.listCollections")
            .append("firstBatch", found);
        Document reply = new Document("cursor", cursor);
        Utils.markOkay(reply);
        return reply;
    }

    private static boolean hasCollections(String database, BiFunction<String, Document, Document> runOn) {
        Document reply = runOn.apply(database, new Document("listCollections", 1));
        return !((List<?>) ((Document) reply.get("cursor")).get("firstBatch")).isEmpty();
    }

    private static Document handleWithErrorCodes(String command, Function<String, Document> handleCommand) {
        try {
            return handleCommand.apply(command);
        } catch (MongoServerException e) {
            if (!(e instanceof MongoServerError) && NAMESPACE_NOT_FOUND_MESSAGES.contains(e.getMessage())) { // H
                throw new MongoServerError(26, "NamespaceNotFound", e.getMessage());
            }
            throw e;
        }
    }
}
