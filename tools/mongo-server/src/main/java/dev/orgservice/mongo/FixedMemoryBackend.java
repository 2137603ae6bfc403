package dev.orgservice.mongo;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/** The memory backend: fixes A to D and G to I of CommandFixes, J (IndexDescriptions) and K (NarrowingMemoryCollection). */
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
                if (collectionName.equals(IndexDescriptions.NAME)) {
                    return new IndexDescriptions(this, options, cursorRegistry); // J
                }
                return new NarrowingMemoryCollection(this, collectionName, options, cursorRegistry); // B, K
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
