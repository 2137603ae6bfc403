package dev.orgservice.mongo;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.regex.Pattern;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A collection of the memory backend, with fix B of CommandFixes and:
 *
 * K. A unique index served only a query on exactly its keys: {_id: x} used the _id index, but
 *    {_id: x, state: "active"} (a conditional update, the usual shape of a compare-and-set) read
 *    every document of the collection, and {_id: {$in: [1 000 ids]}, state: ...} compared every
 *    document with every id. A query that gives every key of a unique index a plain value or an $in
 *    of plain values (no other operator, no array, null or pattern), among other conditions, now reads
 *    the documents the index finds for those values and checks the whole query on them, as MongoDB does.
 */
class NarrowingMemoryCollection extends MemoryCollection {

    NarrowingMemoryCollection(MongoDatabase database, String name, CollectionOptions options,
                              CursorRegistry cursorRegistry) {
        super(database, name, options, cursorRegistry);
    }

    @Override
    public synchronized void addIndex(Index<Integer> index) {
        super.addIndex(index); // B
    }

    @Override
    public synchronized void dropIndex(String indexName) {
        super.dropIndex(indexName); // B
    }

    @Override
    protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int numberToReturn,
                                         int batchSize, Document fieldSelector) {
        for (Index<Integer> index : getIndexes()) {
            Document keys = plainKeysOf(index, query);
            if (index.isUnique() && keys != null && keys.size() < query.size() && index.canHandle(keys)) {
                // Once each: an $in of two elements of one document's array finds it twice.
                var positions = new LinkedHashSet<Integer>();
                index.getPositions(keys).forEach(positions::add);
                return matchDocuments(query, positions, orderBy, numberToSkip, numberToReturn, batchSize,
                    fieldSelector);
            }
        }
        return super.queryDocuments(query, orderBy, numberToSkip, numberToReturn, batchSize, fieldSelector);
    }

    /** The query's conditions on the index's keys, if each is a plain value or an $in of them; else null. */
    private static Document plainKeysOf(Index<Integer> index, Document query) {
        Document keys = new Document();
        for (var key : index.getKeys()) {
            Object value = query.get(key.getKey());
            if (!isPlain(value) && !(value instanceof Document condition && condition.size() == 1
                && condition.get("$in") instanceof Collection<?> values && values.stream().allMatch(NarrowingMemoryCollection::isPlain))) {
                return null;
            }
            keys.put(key.getKey(), value);
        }
        return keys;
    }

    private static boolean isPlain(Object value) {
        return value != null && !(value instanceof Document || value instanceof Collection || value instanceof Pattern
            || BsonRegularExpression.isRegularExpression(value));
    }
}
