package dev.orgservice.mongo;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/** The memory backend, with fixes A, B, C, D, G, H and I of CommandFixes. */
final class FixedMemoryBackend extends MemoryBackend {

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
        return CommandFixes.handle(command, query, c -> super.handleCommand(channel, databaseName, c, query),
            (database, other) -> super.handleCommand(channel, database, other.keySet().iterator().next(), other),
            () -> resolveDatabase(databaseName));
    }
}
