package dev.orgservice.mongo;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.bson.Document;

/**
 * J. A database's "system.indexes", where mongo-java-server keeps the description of every index of
 * every collection, had no index of its own: each createIndexes, create and first write of a new
 * collection, listIndexes and drop read all of them, so their cost grew with the number of
 * collections (a database holding thousands of tenants' collections). Queries on one namespace
 * ({ns: "db.coll", ...}) now read that namespace's descriptions only. Memory backend.
 */
final class IndexDescriptions extends MemoryCollection {

    static final String NAME = "system.indexes";
    private static final String NAMESPACE = "ns";

    /** Positions by namespace, in position order: the order a read of every description gives. */
    private final Map<String, NavigableSet<Integer>> byNamespace = new HashMap<>();

    IndexDescriptions(MongoDatabase database, CollectionOptions options, CursorRegistry cursorRegistry) {
        super(database, NAME, options, cursorRegistry);
    }

    @Override
    protected Integer addDocumentInternal(Document document) {
        Integer position = super.addDocumentInternal(document);
        positionsOf(document).add(position);
        return position;
    }

    @Override
    protected void removeDocument(Integer position) {
        forget(getDocument(position), position);
        super.removeDocument(position);
    }

    @Override
    protected void handleUpdate(Integer position, Document oldDocument, Document newDocument) {
        forget(oldDocument, position);
        super.handleUpdate(position, oldDocument, newDocument);
        positionsOf(newDocument).add(position);
    }

    @Override
    protected QueryResult matchDocuments(Document query, Document orderBy, int numberToSkip, int numberToReturn,
                                         int batchSize, Document fieldSelector) {
        if (query.get(NAMESPACE) instanceof String namespace) {
            List<Integer> positions = List.copyOf(byNamespace.getOrDefault(namespace, new TreeSet<>()));
            return matchDocuments(query, positions, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector);
        }
        return super.matchDocuments(query, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector);
    }

    /** A namespace's entry goes with its last description: names of dropped collections do not pile up. */
    private void forget(Document document, Integer position) {
        String namespace = String.valueOf(document.get(NAMESPACE));
        NavigableSet<Integer> positions = byNamespace.get(namespace);
        if (positions != null && positions.remove(position) && positions.isEmpty()) {
            byNamespace.remove(namespace);
        }
    }

    private NavigableSet<Integer> positionsOf(Document document) {
        return byNamespace.computeIfAbsent(String.valueOf(document.get(NAMESPACE)), namespace -> new TreeSet<>());
    }
}
