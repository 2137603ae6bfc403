// Starts one local MongoDB-wire server for the whole e2e run, unless MONGODB_URI points at a real one.
const { startLocalMongo } = require('../../tools/local-mongo');

module.exports = async () => {
  if (process.env.MONGODB_URI) {
    return;
  }
  const server = await startLocalMongo({ memory: true });
  process.env.MONGODB_URI = server.uri;
  globalThis.__E2E_MONGO__ = server;
};
