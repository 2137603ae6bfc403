package dev.orgservice.mongo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/** The H2 (file) backend, with fixes A to I of CommandFixes. */
final class FixedH2Backend extends H2Backend {

    // H2Database's private names of the MVStore maps of a collection "db.coll": "databases.db.coll" holds
    // the documents, "meta.db.coll" the data size, and "db.coll._index_NAME" each unique index.
    private static final String DATA_MAP_PREFIX = "databases.";
    private static final String META_MAP_PREFIX = "meta.";
    private static final String PARKED_MAP_PREFIX = "local-mongo-parked.";

    FixedH2Backend(String fileName) {
        super(unparkMaps(MVStore.open(fileName)));
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new FixedH2Database(databaseName);
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        return CommandFixes.handle(command, query, c -> super.handleCommand(channel, databaseName, c, query),
            (database, other) -> super.handleCommand(channel, database, other.keySet().iterator().next(), other),
            () -> resolveDatabase(databaseName));
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
